#include "daemon/nftables_backend.hpp"

#include "netlink/nft_dump.hpp"
#include "state/desired_ruleset.hpp"
#include "state/ruleset_diff.hpp"

namespace fnft::daemon {
namespace {

BackendResult result_of(const netlink::ApplyResult& applied) {
  BackendResult result;
  result.committed = applied.committed;
  for (const auto& operation : applied.applied)
    result.changes.push_back(state::describe(operation));
  result.notes = applied.notes;
  result.generation = netlink::generation_text(applied);
  return result;
}

}  // namespace

NftablesBackend::NftablesBackend(netlink::NfnlSocket& socket) : socket_(socket), tables_(socket) {}

std::vector<netlink::WatchedTable> NftablesBackend::watched() const {
  std::vector<netlink::WatchedTable> watched;
  for (const auto& table : tables_.owned_tables())
    watched.push_back({table.family, table.name, {}});
  return watched;
}

void NftablesBackend::apply(const state::NodeConfig& config,
                            const std::vector<state::OwnedTable>& scope, Done done) {
  BackendResult result;
  try {
    const state::Ruleset desired = state::desired_nft_ruleset(config);
    result = result_of(scope.empty() ? tables_.apply(desired) : tables_.apply(desired, scope));
  } catch (const std::exception& error) {  // NetlinkError, and bad_alloc, invalid_argument
    result.error = error.what();
  }
  done(std::move(result));
}

void NftablesBackend::observe(const state::NodeConfig& config, Observed done) {
  BackendObservation observation;
  try {
    const state::Ruleset desired = state::desired_nft_ruleset(config);
    state::Ruleset observed = tables_.observe(desired);
    netlink::order_chains_like(observed, desired);
    observation.matches = observed == desired;
    if (!observation.matches) observation.difference = state::diff_text(desired, observed);
  } catch (const std::exception& error) {
    observation.error = error.what();
  }
  done(std::move(observation));
}

void NftablesBackend::cleanup(Done done) {
  BackendResult result;
  try {
    for (const auto& operation : tables_.cleanup()) {
      result.changes.push_back(state::describe(operation));
    }
    result.committed = !result.changes.empty();
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  done(std::move(result));
}

bool NftablesBackend::is_own(const netlink::NftTransaction& transaction) const {
  return transaction.portid == socket_.portid();
}

}  // namespace fnft::daemon
