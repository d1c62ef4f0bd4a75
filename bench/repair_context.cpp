#include "bench/repair_context.hpp"

#include "netlink/detail/nft_operations.hpp"
#include "netlink/nft_batch.hpp"
#include "netlink/nft_dump.hpp"

namespace fnft::bench {

Snapshot take_snapshot(const RepairContext& context) {
  netlink::ObservedRuleset observed = netlink::dump_tables(context.command, context.owned);
  netlink::order_chains_like(observed.ruleset, context.desired);
  Snapshot snapshot;
  snapshot.matches_desired = observed.ruleset == context.desired;
  snapshot.ruleset = std::move(observed.ruleset);
  snapshot.generation = observed.generation.value_or(context.command.read_generation());
  return snapshot;
}

void commit(const RepairContext& context, const std::vector<state::NftOperation>& operations) {
  // Unconditional, as `nft` commits: the benchmark plays a process that does not care
  // what the ruleset holds.
  netlink::NftBatch batch;
  for (const auto& operation : operations) netlink::add_operation(batch, operation);
  batch.send(context.command);
}

}  // namespace fnft::bench
