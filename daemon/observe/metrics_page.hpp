// What /metrics answers: the snapshot and, in the nftables mode, our tables as the kernel
// holds them (rules per chain, each rule's counter, the flowtable's devices), in the
// Prometheus text format.
#pragma once

#include <string>

#include "daemon/observe/node_snapshot.hpp"
#include "state/ruleset.hpp"

namespace fnft::daemon {

// `tables` is null outside the nftables mode and while they cannot be read: their families
// are then left out, the rest is still exported.
std::string metrics_page(const NodeSnapshot& snapshot, const state::Ruleset* tables);

}  // namespace fnft::daemon
