#include "daemon/config/options.hpp"

#include <cmath>
#include <cstdio>

namespace po = boost::program_options;

namespace fnft::daemon {

po::options_description config_options_description(ConfigOptions& out, ModeChoices mode_choices) {
  const bool or_all = mode_choices == ModeChoices::or_all;
  po::options_description description("Configuration (flanneld's own files and flags)");
  // Bool flags take an optional value so both `--ip-masq` and `--ip-masq=false` work, as
  // with flanneld's Go flags.
  // clang-format off
  description.add_options()
      ("subnet-file", po::value(&out.subnet_file)->default_value(kDefaultSubnetFile),
       "flanneld's lease file (FLANNEL_NETWORK, FLANNEL_SUBNET, ...)")
      ("net-config-path", po::value(&out.net_config_path)->default_value(kDefaultNetConfigPath),
       "flannel's net-conf.json (optional: etcd mode has none)")
      ("mode", po::value<std::string>()->value_name(or_all ? "nftables|iptables|all" : "nftables|iptables"),
       or_all ? "which mode's rules to remove (all: every mode's). Default: net-conf.json "
                "EnableNFTables, else iptables (flannel's default)"
              : "nftables: tables ip flannel-nftd-ipv4/ip6 flannel-nftd-ipv6; iptables: "
                "flanneld's chains. Default: net-conf.json EnableNFTables, else iptables "
                "(flannel's default)")
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

po::options_description fast_path_options_description(FastPathSettings& out) {
  po::options_description description("Fast path (nftables mode)");
  // clang-format off
  description.add_options()
      ("flowtable", po::value<std::string>()->default_value("off")->implicit_value("on")
           ->value_name("off|on|required"),
       "put established pod traffic on an nftables flowtable (`flow add @fastpath`), past the "
       "forward and postrouting hooks; on: where the kernel has flowtables "
       "(CONFIG_NF_FLOW_TABLE), else said once and run without; required: exit 1 without")
      ("cni-bridge", po::value(&out.cni_bridge)->default_value("cni0")->value_name("NAME"),
       "the bridge the pod veths are enslaved to; it and its ports join the flowtable");
  // clang-format on
  return description;
}

void finish_fast_path_options(const po::variables_map& vm, FastPathSettings& out) {
  const std::string text = vm["flowtable"].as<std::string>();
  if (text == "off" || text == "false") {
    out.flowtable = FlowtableOption::off;
  } else if (text == "on" || text == "true") {
    out.flowtable = FlowtableOption::on;
  } else if (text == "required") {
    out.flowtable = FlowtableOption::required;
  } else {
    throw UsageError("--flowtable: \"" + text + "\" is not a choice; expected off, on or required");
  }
  if (out.cni_bridge.empty() || out.cni_bridge.size() >= 16 ||
      out.cni_bridge.find_first_of("/ \t") != std::string::npos) {
    throw UsageError("--cni-bridge: \"" + out.cni_bridge +
                     "\" is not a network device name (1 to 15 characters, no '/' or space)");
  }
}

po::variables_map parse_verb_arguments(const std::vector<std::string>& args,
                                       const po::options_description& description) {
  po::variables_map vm;
  try {
    const po::parsed_options parsed = po::command_line_parser(args).options(description).run();
    // Every verb takes options only: a stray word is a mistake (a missing "--", a value
    // after a space where the option has none), never something to ignore.
    const auto words = po::collect_unrecognized(parsed.options, po::include_positional);
    if (!words.empty()) {
      throw UsageError("unexpected argument \"" + words.front() +
                       "\": this verb takes options only (--name=value)");
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& error) {
    throw UsageError(error.what());
  }
  return vm;
}

double bounded_option(const char* option, double value, double min, double max, const char* unit) {
  if (std::isfinite(value) && value >= min && value <= max) return value;
  char range[96];
  std::snprintf(range, sizeof(range), "from %g to %g %s", min, max, unit);
  char given[32];
  std::snprintf(given, sizeof(given), "%g", value);
  throw UsageError(std::string(option) + ": " + given + " is out of range; expected a number " +
                   range);
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

ProtectOption parse_protect(const std::string& text) {
  if (text == "auto") return ProtectOption::automatic;
  if (text == "on" || text == "true") return ProtectOption::on;
  if (text == "off" || text == "false") return ProtectOption::off;
  throw UsageError("--protect: \"" + text + "\" is not a choice; expected auto, on or off");
}

bool parse_on_off(const std::string& option, const std::string& text) {
  if (text == "on" || text == "true") return true;
  if (text == "off" || text == "false") return false;
  throw UsageError(option + ": \"" + text + "\" is not a choice; expected on or off");
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
