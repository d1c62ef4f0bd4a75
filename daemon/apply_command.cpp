// `flannel-nftd apply`: one reconciliation, verified by reading the kernel back.
#include <iostream>

#include "daemon/config_files.hpp"
#include "daemon/options.hpp"
#include "daemon/verbs.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nftables_backend.hpp"
#include "state/desired_ruleset.hpp"
#include "state/ruleset_diff.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd apply [options]\n"
    "\n"
    "Bring this node's flannel tables to the desired state in one atomic nftables transaction,\n"
    "read them back, and exit 0 when the kernel holds exactly the desired ruleset. Existing\n"
    "tables (also those of flanneld's own nftables mode) are taken over in place. Prints each\n"
    "change in nft syntax; applying an unchanged state commits nothing.\n";

}  // namespace

int apply_command(const std::vector<std::string>& args) {
  ConfigOptions options;
  po::options_description description = config_options_description(options);
  description.add_options()("help,h", "show this help");
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  finish_config_options(vm, options);
  const LoadedConfig config = load_config(options);
  require_nftables_mode(config.mode, "apply");

  const state::Ruleset desired = state::desired_nft_ruleset(config.node);
  netlink::NfnlSocket socket;
  netlink::NftablesBackend backend(socket);
  const netlink::ApplyResult result = backend.apply(desired);
  for (const auto& note : result.notes) std::cout << "# " << note << "\n";
  for (const auto& operation : result.applied) std::cout << state::describe(operation) << "\n";

  state::Ruleset observed = backend.observe(desired);
  netlink::order_chains_like(observed, desired);
  if (observed != desired) {
    std::cerr << "flannel-nftd apply: the kernel does not hold the desired ruleset after the "
                 "commit (another process changed it meanwhile?):\n"
              << state::diff_text(desired, observed);
    return kExitFailure;
  }
  if (result.committed) {
    std::cout << "applied " << result.applied.size() << " change(s)"
              << netlink::generation_text(result) << "\n";
  } else {
    std::cout << "the kernel already holds the desired ruleset" << netlink::generation_text(result)
              << "\n";
  }
  return kExitOk;
}

}  // namespace fnft::daemon
