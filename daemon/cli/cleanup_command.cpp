// `flannel-nftd cleanup`: remove everything a mode installs, or every mode's.
#include <iostream>

#include "daemon/backends/backend_set.hpp"
#include "daemon/cli/run_to_completion.hpp"
#include "daemon/cli/verbs.hpp"
#include "daemon/config/config_files.hpp"
#include "daemon/config/options.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd cleanup [--mode=nftables|iptables|all] [--net-config-path=F] [OPTIONS]\n"
    "\n"
    "Remove what a mode installs and print what was removed. nftables: table ip flannel-nftd-ipv4\n"
    "and table ip6 flannel-nftd-ipv6, in one transaction. iptables: flanneld's chains "
    "FLANNEL-POSTRTG\n"
    "and FLANNEL-FWD wherever they are, every rule that jumps to them, and every rule with\n"
    "flanneld's comments (older flanneld put them straight into POSTROUTING), for iptables and\n"
    "ip6tables, in both iptables-nft and iptables-legacy (one atomic iptables-restore each).\n"
    "all: both. Rules are otherwise never removed: stopping the daemon leaves them in place so\n"
    "pods keep their egress.\n"
    "\n"
    "It takes the configuration and fast-path options every verb takes, so a unit or a script\n"
    "can pass one set of flags to each verb; only --mode and --net-config-path change what\n"
    "cleanup does.\n";

}  // namespace

int cleanup_command(const std::vector<std::string>& args) {
  ConfigOptions config;
  FastPathSettings fast_path;
  po::options_description description = config_options_description(config, ModeChoices::or_all);
  description.add(fast_path_options_description(fast_path));
  po::options_description own("Cleanup");
  own.add_options()("help,h", "show this help");
  description.add(own);
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  // The other options are checked as every verb checks them, though cleanup needs none.
  finish_fast_path_options(vm, fast_path);
  if (vm.count("iptables-backend") != 0)
    parse_iptables_backend(vm["iptables-backend"].as<std::string>());
  const std::string mode_text = vm.count("mode") != 0 ? vm["mode"].as<std::string>() : "";
  const std::string& net_config_path = config.net_config_path;
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
