// Reads our tables back from the kernel as state values, consistent with one generation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/nfnl_socket.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::netlink {

// An owned table holding what state::Table cannot express, e.g. upstream flanneld's table
// comment, `flags dormant` (someone switched our rules off), or sets and flowtables.
struct UnmodeledTable {
  state::Family family = state::Family::ipv4;
  std::string name;
  std::vector<std::string> properties;  // in nft syntax: "flags dormant", "2 sets, maps, ..."
};

struct ObservedRuleset {
  state::Ruleset ruleset;
  std::vector<UnmodeledTable> unmodeled;
  // The generation this snapshot is: a batch conditional on it (NftBatch) fails with
  // ERESTART if anything changed since.
  std::uint32_t generation = 0;
};

// The owned tables that exist, in the order of `owned`, with their chains in kernel order (the
// order they were created in) and each chain's rules in order with their handles. Tables we do
// not own are never part of the result. Retries (up to 10 times) while the ruleset changes
// during the dump; throws NetlinkError (EAGAIN) if it never holds still.
ObservedRuleset dump_tables(NfnlSocket& socket, const std::vector<state::OwnedTable>& owned);

// Chain order inside a table does not matter to packets; this puts the chains of `observed`
// that `desired` also has in desired's order (others after them, in their order), so
// `observed == desired` asks only what matters.
void order_chains_like(state::Ruleset& observed, const state::Ruleset& desired);

}  // namespace fnft::netlink
