// `flannel-nftd cleanup`: remove everything a mode installs, or every mode's.
#include <iostream>

#include "daemon/backend_set.hpp"
#include "daemon/config_files.hpp"
#include "daemon/options.hpp"
#include "daemon/run_to_completion.hpp"
#include "daemon/verbs.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd cleanup [--mode=nftables|iptables|all] [--net-config-path=F]\n"
    "\n"
    "Remove what a mode installs and print what was removed. nftables: table ip flannel-nftd-ipv4\n"
    "and table ip6 flannel-nftd-ipv6, in one transaction. iptables: flanneld's chains "
    "FLANNEL-POSTRTG\n"
    "and FLANNEL-FWD wherever they are, every rule that jumps to them, and every rule with\n"
    "flanneld's comments (older flanneld put them straight into POSTROUTING), for iptables and\n"
    "ip6tables, in both iptables-nft and iptables-legacy (one atomic iptables-restore each).\n"
    "all: both. Rules are otherwise never removed: stopping the daemon leaves them in place so\n"
    "pods keep their egress.\n";

}  // namespace

int cleanup_command(const std::vector<std::string>& args) {
  std::string mode_text;
  std::string net_config_path = kDefaultNetConfigPath;
  po::options_description description("Options");
  // clang-format off
  description.add_options()
      ("mode", po::value(&mode_text)->value_name("nftables|iptables|all"),
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
  std::vector<BackendKind> kinds;
  if (mode_text == "all") {
    kinds.assign(BackendSet::kAll.begin(), BackendSet::kAll.end());
  } else {
    std::optional<state::Mode> mode;
    if (vm.count("mode") != 0) {
      if (mode_text != "nftables" && mode_text != "iptables") {
        throw UsageError("--mode: \"" + mode_text +
                         "\" is not a mode; expected nftables, iptables or all");
      }
      mode = parse_mode(mode_text);
    }
    std::optional<state::NetConf> net_conf;
    if (!mode) {
      if (const auto text = read_config_file(net_config_path))
        net_conf = state::parse_net_conf(*text, net_config_path);
    }
    if (state::resolve_mode(mode, net_conf) == state::Mode::nftables) {
      kinds = {BackendKind::nftables};
    } else {
      kinds = {BackendKind::iptables_nft, BackendKind::iptables_legacy};
    }
  }

  boost::asio::io_context io;
  netlink::NfnlSocket socket;
  BackendSet backends(io, socket, std::chrono::seconds(5));
  std::size_t removed = 0;
  int exit_code = kExitOk;
  run_to_completion<bool>(io, [&](auto done) {
    backends.clean(
        kinds,
        [&](const RemovedRules& rules, const BackendResult& result) {
          for (const auto& change : result.changes) {
            std::cout << "removed (" << rules.where << ") " << change << "\n";
          }
          removed += result.changes.size();
          if (result.error) {
            std::cerr << "flannel-nftd cleanup: " << rules.whose << " rules: " << *result.error
                      << "\n";
            exit_code = kExitFailure;
          }
        },
        [done] { done(true); });
  });
  if (removed == 0 && exit_code == kExitOk) std::cout << "no flannel rule was present\n";
  return exit_code;
}

}  // namespace fnft::daemon
