// Reads our tables back from the kernel as state values, consistent with one generation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/nfnl_socket.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"
#include "state/table_sync_plan.hpp"

namespace fnft::netlink {

struct ObservedRuleset {
  state::Ruleset ruleset;
  std::vector<state::UnmodeledTable> unmodeled;
  // The generation this snapshot is, when the whole ruleset stood still while it was read: a
  // batch conditional on it (NftBatch) fails with ERESTART if anything changed since. Absent
  // when other processes committed throughout (to other tables: see dump_tables).
  std::optional<std::uint32_t> generation;
};

// The owned tables that exist, in the order of `owned`, with their chains in kernel order (the
// order they were created in) and each chain's rules in order with their handles. Tables we do
// not own are never part of the result.
//
// First the whole ruleset must hold still (the generation the same before and after, no dump
// interrupted), a few times at most. When other processes commit to other tables faster than
// that, our tables are read on their own: each table by name, the rules of each with a dump
// the kernel filters by table (its position counts only that table's rules), and every chain
// `expected` names that the family-wide chain dump did not show is asked for by name, since
// commits elsewhere can shift that dump. Changes to our own tables meanwhile are what the
// event stream reports, so the caller repairs again. Throws NetlinkError (EAGAIN) if even our
// own tables never read consistently.
ObservedRuleset dump_tables(NfnlSocket& socket, const std::vector<state::OwnedTable>& owned,
                            const state::Ruleset& expected = {});

// Chain order inside a table does not matter to packets; this puts the chains of `observed`
// that `desired` also has in desired's order (others after them, in their order), so
// `observed == desired` asks only what matters.
void order_chains_like(state::Ruleset& observed, const state::Ruleset& desired);

}  // namespace fnft::netlink
