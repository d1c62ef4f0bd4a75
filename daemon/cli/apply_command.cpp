// `flannel-nftd apply`: one reconciliation in the configured mode, verified by reading the
// kernel back, then every trace of the other modes removed.
#include <iostream>

#include "daemon/backends/backend_choice.hpp"
#include "daemon/backends/backend_set.hpp"
#include "daemon/cli/fast_path_now.hpp"
#include "daemon/cli/run_to_completion.hpp"
#include "daemon/cli/verbs.hpp"
#include "daemon/config/config_files.hpp"
#include "daemon/config/options.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd apply [options]\n"
    "\n"
    "Bring this node's flannel rules to the desired state in one atomic transaction per\n"
    "family, read them back, and exit 0 when the kernel holds exactly them; then remove\n"
    "every trace of the other modes (the new mode's rules are in place first, so no packet\n"
    "meets a moment without them). Existing tables and chains (also those upstream flanneld\n"
    "left) are taken over in place. Prints each change; applying an unchanged state commits\n"
    "nothing. With --flowtable, the fast path is bound to the devices the node has now (the\n"
    "daemon follows them; `apply` does not).\n";

}  // namespace

int apply_command(const std::vector<std::string>& args) {
  ConfigOptions options;
  FastPathSettings fast_path;
  po::options_description description = config_options_description(options);
  description.add(fast_path_options_description(fast_path));
  description.add_options()("help,h", "show this help");
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  finish_config_options(vm, options);
  finish_fast_path_options(vm, fast_path);
  const LoadedConfig config = load_config(options);

  boost::asio::io_context io;
  netlink::NfnlSocket socket;
  BackendSet backends(io, socket, std::chrono::seconds(5));
  const ChosenBackend chosen = run_to_completion<ChosenBackend>(io, [&](auto done) {
    choose_backend(io, config.mode, config.mode_reason, options.iptables_backend, done);
  });
  for (const auto& warning : chosen.warnings) std::cerr << "warning: " << warning << "\n";
  Backend& backend = backends.of(chosen.kind);
  std::cout << "# " << to_string(chosen.kind) << " mode (" << chosen.reason << ")\n";
  state::Target target{config.node, std::nullopt};
  if (chosen.kind == BackendKind::nftables) {
    try {
      target.fast_path = fast_path_now(fast_path, &socket);
    } catch (const std::runtime_error& error) {
      std::cerr << "flannel-nftd apply: " << error.what() << "\n";
      return kExitFailure;
    }
  } else if (fast_path.flowtable != FlowtableOption::off) {
    std::cerr << "warning: --flowtable: the " << to_string(chosen.kind)
              << " mode has no flowtable; applying without the fast path\n";
    if (fast_path.flowtable == FlowtableOption::required) return kExitFailure;
  }

  const BackendResult result =
      run_to_completion<BackendResult>(io, [&](auto done) { backend.apply(target, {}, done); });
  for (const auto& note : result.notes) std::cout << "# " << note << "\n";
  if (result.error) {
    std::cerr << "flannel-nftd apply: " << *result.error << "\n";
    return kExitFailure;
  }
  for (const auto& change : result.changes) std::cout << change << "\n";

  const BackendObservation observed =
      run_to_completion<BackendObservation>(io, [&](auto done) { backend.observe(target, done); });
  if (observed.error || !observed.matches) {
    std::cerr << "flannel-nftd apply: the kernel does not hold the desired rules after the "
                 "commit (another process changed them meanwhile?):\n"
              << observed.error.value_or(observed.difference);
    return kExitFailure;
  }
  if (result.committed) {
    std::cout << "applied " << result.changes.size() << " change(s)" << result.generation << "\n";
  } else {
    std::cout << "the kernel already holds the desired rules" << result.generation << "\n";
  }

  int exit_code = kExitOk;
  run_to_completion<bool>(io, [&](auto done) {
    backends.clean_all_but(
        chosen.kind, config.node,
        [&](const RemovedRules& rules, const BackendResult& removed) {
          for (const auto& change : removed.changes) {
            std::cout << "removed " << rules.whose << " rules: " << change << "\n";
          }
          if (removed.error) {
            std::cerr << "flannel-nftd apply: could not remove " << rules.whose
                      << " rules: " << *removed.error << "\n";
            exit_code = kExitFailure;
          }
        },
        [done] { done(true); });
  });
  return exit_code;
}

}  // namespace fnft::daemon
