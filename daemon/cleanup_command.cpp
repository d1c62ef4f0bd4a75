// `flannel-nftd cleanup`: remove everything a mode installs.
#include <iostream>

#include "daemon/config_files.hpp"
#include "daemon/iptables_mode_cleanup.hpp"
#include "daemon/options.hpp"
#include "daemon/verbs.hpp"
#include "netlink/nftables_backend.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd cleanup [--mode=nftables|iptables] [--net-config-path=F]\n"
    "\n"
    "Remove what a mode installs and print what was removed. nftables: table ip flannel-ipv4\n"
    "and table ip6 flannel-ipv6, in one transaction. iptables: flanneld's chains FLANNEL-POSTRTG\n"
    "and FLANNEL-FWD and the jumps to them, for iptables and ip6tables, in both iptables-nft\n"
    "and iptables-legacy (one atomic iptables-restore each). Rules are otherwise never removed:\n"
    "stopping the daemon leaves them in place so pods keep their egress.\n";

int cleanup_iptables_mode() {
  const IptablesModeCleanup report = clean_iptables_mode();
  for (const auto& line : report.removed) std::cout << "removed " << line << "\n";
  for (const auto& problem : report.problems)
    std::cerr << "flannel-nftd cleanup: " << problem << "\n";
  if (report.removed.empty() && report.problems.empty())
    std::cout << "no flannel iptables rule was present\n";
  return report.problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace

int cleanup_command(const std::vector<std::string>& args) {
  std::string mode_text;
  std::string net_config_path = kDefaultNetConfigPath;
  po::options_description description("Options");
  // clang-format off
  description.add_options()
      ("mode", po::value(&mode_text)->value_name("nftables|iptables"),
       "which mode's rules to remove; default: net-conf.json EnableNFTables, else iptables")
      ("net-config-path", po::value(&net_config_path)->default_value(kDefaultNetConfigPath),
       "flannel's net-conf.json, read only to pick the default mode")
      ("help,h", "show this help");
  // clang-format on
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  std::optional<state::Mode> mode;
  if (vm.count("mode") != 0) {
    mode = parse_mode(mode_text);
  }
  std::optional<state::NetConf> net_conf;
  if (!mode) {
    if (const auto text = read_config_file(net_config_path))
      net_conf = state::parse_net_conf(*text, net_config_path);
  }
  if (state::resolve_mode(mode, net_conf) == state::Mode::iptables) return cleanup_iptables_mode();

  netlink::NfnlSocket socket;
  netlink::NftablesBackend backend(socket);
  const auto removed = backend.cleanup();
  for (const auto& operation : removed) std::cout << state::describe(operation) << "\n";
  std::cout << (removed.empty() ? "no flannel table was present\n"
                                : "removed " + std::to_string(removed.size()) + " table(s)\n");
  return kExitOk;
}

}  // namespace fnft::daemon
