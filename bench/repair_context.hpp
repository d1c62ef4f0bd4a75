// What the repair benchmark's phases share: its own command socket (never subscribed, so
// its commits are told apart by portid), the commit monitor, and the desired tables.
#pragma once

#include <vector>

#include "bench/generation_monitor.hpp"
#include "netlink/nfnl_socket.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::bench {

struct RepairContext {
  netlink::NfnlSocket& command;
  GenerationMonitor& monitor;
  const state::Ruleset& desired;
  std::vector<state::OwnedTable> owned;  // table ip flannel-nftd-ipv4, table ip6 flannel-nftd-ipv6
};

// The owned tables as the kernel holds them, chains in desired order, and the generation
// that snapshot is.
struct Snapshot {
  state::Ruleset ruleset;
  std::uint32_t generation = 0;
  bool matches_desired = false;
};
Snapshot take_snapshot(const RepairContext& context);

// Commits `operations` as one batch on the benchmark's command socket.
void commit(const RepairContext& context, const std::vector<state::NftOperation>& operations);

}  // namespace fnft::bench
