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
       "nftables: tables ip flannel-ipv4/ip6 flannel-ipv6; iptables: flanneld's chains. "
       "Default: net-conf.json EnableNFTables, else iptables (flannel's default)")
      ("iptables-backend", po::value<std::string>()->default_value("auto")
           ->value_name("auto|nft|legacy"),
       "the iptables the iptables mode writes to; auto: the one holding kubelet's "
       "KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain, else the one with more rules, else nft")
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

IptablesBackendOption parse_iptables_backend(const std::string& text) {
  if (text == "auto") return IptablesBackendOption::automatic;
  if (text == "nft") return IptablesBackendOption::nft;
  if (text == "legacy") return IptablesBackendOption::legacy;
  throw UsageError("--iptables-backend: \"" + text +
                   "\" is not a backend; expected auto, nft or legacy");
}

void finish_config_options(const po::variables_map& vm, ConfigOptions& out) {
  if (vm.count("mode") != 0) {
    out.mode = parse_mode(vm["mode"].as<std::string>());
  }
  if (vm.count("iptables-backend") != 0) {
    out.iptables_backend = parse_iptables_backend(vm["iptables-backend"].as<std::string>());
  }
  if (vm.count("ip-masq-fully-random-disable") != 0 &&
      vm["ip-masq-fully-random-disable"].as<bool>()) {
    out.rules.masq_fully_random = false;
  }
}

}  // namespace fnft::daemon
