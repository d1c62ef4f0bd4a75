// `flannel-nftd dump`: print the desired ruleset, touching nothing.
#include <iostream>

#include "daemon/cli/fast_path_now.hpp"
#include "daemon/cli/verbs.hpp"
#include "daemon/config/config_files.hpp"
#include "daemon/config/options.hpp"
#include "state/desired_ruleset.hpp"
#include "state/iptables_ruleset.hpp"
#include "state/nft_text.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd dump [options]\n"
    "\n"
    "Print the rules flannel-nftd would install for this node, without touching the kernel:\n"
    "nft syntax that `nft -f` loads, or iptables-restore input (with both families enabled the\n"
    "ip6tables payload follows the iptables one, each introduced by a `#` comment line).\n"
    "With --flowtable, the nftables mode's flowtable on the devices this node has now (read\n"
    "from rtnetlink; `flags counter` as the daemon sets it on kernels from 5.7).\n";

}  // namespace

int dump_command(const std::vector<std::string>& args) {
  ConfigOptions options;
  FastPathSettings fast_path;
  std::string family_text;
  po::options_description description = config_options_description(options);
  description.add(fast_path_options_description(fast_path));
  po::options_description dump_only("Output");
  // clang-format off
  dump_only.add_options()
      ("family", po::value(&family_text)->value_name("ipv4|ipv6"), "print one address family only")
      ("help,h", "show this help");
  // clang-format on
  description.add(dump_only);

  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  finish_config_options(vm, options);
  finish_fast_path_options(vm, fast_path);
  std::optional<state::Family> family;
  if (vm.count("family") != 0) {
    if (family_text == "ipv4")
      family = state::Family::ipv4;
    else if (family_text == "ipv6")
      family = state::Family::ipv6;
    else
      throw UsageError("--family: \"" + family_text + "\" is not a family; expected ipv4 or ipv6");
  }

  LoadedConfig config = load_config(options);
  if (family == state::Family::ipv4) config.node.ipv6.reset();
  if (family == state::Family::ipv6) config.node.ipv4.reset();
  if (family && !config.node.ipv4 && !config.node.ipv6) {
    throw UsageError("--family=" + family_text +
                     ": that family is not enabled in this node's config");
  }

  if (config.mode == state::Mode::nftables) {
    std::cout << state::to_nft_text(
        state::desired_nft_ruleset(config.node, fast_path_now(fast_path, nullptr)));
  } else {
    if (fast_path.flowtable != FlowtableOption::off) {
      throw UsageError("--flowtable: the iptables mode has no flowtable; add --mode=nftables");
    }
    std::cout << state::to_iptables_restore(config.node);
  }
  return kExitOk;
}

}  // namespace fnft::daemon
