// What `flannel-nftd status` receives over the control socket: a JSON document of the
// snapshot and of the rules' counters as the kernel holds them.
#pragma once

#include <string>

#include "daemon/observe/node_snapshot.hpp"
#include "state/rule_counters.hpp"

namespace fnft::daemon {

// `counters` is null when there are no rules to read (no configuration, no mode yet).
// Bytes that are not UTF-8 (a path from the command line) become U+FFFD: the document stays
// printable whatever it holds.
std::string status_document(const NodeSnapshot& snapshot, const state::RuleCounters* counters);

}  // namespace fnft::daemon
