// Removes what flanneld's iptables mode installed (and what `dump --mode=iptables` prints),
// from both families and from both iptables back ends: iptables-nft and iptables-legacy.
#pragma once

#include <string>
#include <vector>

namespace fnft::daemon {

struct IptablesModeCleanup {
  std::vector<std::string> removed;   // "iptables-nft: nat: -A POSTROUTING ... -j FLANNEL-POSTRTG"
  std::vector<std::string> problems;  // a tool that failed, with what it said
};

// Runs `<tool>-save`, plans with state::plan_iptables_cleanup and, when there is anything,
// `<tool>-restore --noflush` with the plan: one atomic restore per tool. A back end whose
// tools are not installed, or whose kernel tables are not loaded (legacy:
// /proc/net/ip_tables_names absent or empty), is skipped without side effects.
IptablesModeCleanup clean_iptables_mode();

}  // namespace fnft::daemon
