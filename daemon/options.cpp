#include "daemon/options.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {

po::options_description config_options_description(ConfigOptions& out) {
  po::options_description description("Configuration (flanneld's own files and flags)");
  // Bool flags take an optional value so both `--ip-masq` and `--ip-masq=false` work, as
  // with flanneld's Go flags.
  // clang-format off
  description.add_options()
      ("subnet-file", po::value(&out.subnet_file)->default_value(kDefaultSubnetFile),
       "flanneld's lease file (FLANNEL_NETWORK, FLANNEL_SUBNET, ...)")
      ("net-config-path", po::value(&out.net_config_path)->default_value(kDefaultNetConfigPath),
       "flannel's net-conf.json (optional: etcd mode has none)")
      ("mode", po::value<std::string>()->value_name("nftables|iptables"),
       "rule backend; default: net-conf.json EnableNFTables, else iptables")
      ("ip-masq", po::value(&out.rules.ip_masq)->default_value(true)->implicit_value(true),
       "install the pod masquerade rules")
      ("forward-rules", po::value(&out.rules.forward_rules)->default_value(true)->implicit_value(true),
       "install the forward accept rules")
      ("ip-masq-fully-random-disable", po::bool_switch(),
       "masquerade without fully-random source port allocation");
  // clang-format on
  return description;
}

po::variables_map parse_verb_arguments(const std::vector<std::string>& args,
                                       const po::options_description& description) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(description).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    throw UsageError(error.what());
  }
  return vm;
}

state::Mode parse_mode(const std::string& text) {
  if (text == "nftables") return state::Mode::nftables;
  if (text == "iptables") return state::Mode::iptables;
  throw UsageError("--mode: \"" + text + "\" is not a mode; expected nftables or iptables");
}

void finish_config_options(const po::variables_map& vm, ConfigOptions& out) {
  if (vm.count("mode") != 0) {
    out.mode = parse_mode(vm["mode"].as<std::string>());
  }
  if (vm.count("ip-masq-fully-random-disable") != 0 &&
      vm["ip-masq-fully-random-disable"].as<bool>()) {
    out.rules.masq_fully_random = false;
  }
}

void require_nftables_mode(state::Mode mode, const std::string& verb) {
  if (mode == state::Mode::nftables) return;
  throw UsageError("`" + verb +
                   "` supports the nftables mode only so far; pass --mode=nftables "
                   "or set \"EnableNFTables\": true in net-conf.json (iptables mode: use `dump "
                   "--mode=iptables` with iptables-restore)");
}

}  // namespace fnft::daemon
