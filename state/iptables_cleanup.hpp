// Removing flanneld's iptables rules (FLANNEL-POSTRTG, FLANNEL-FWD and the jumps to them),
// planned from `iptables-save` output. Pure: the caller runs the tools.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fnft::state {

struct IptablesCleanupPlan {
  // iptables-restore --noflush input: `-D` of every rule that jumps to one of our chains,
  // then `-F` and `-X` of our chains, one COMMIT per table. Empty when there is nothing.
  std::string restore_payload;
  // What goes away, one line each, as iptables-save wrote it ("nat: -A POSTROUTING ...",
  // "nat: chain FLANNEL-POSTRTG (7 rules)").
  std::vector<std::string> removed;
};

IptablesCleanupPlan plan_iptables_cleanup(std::string_view save_output);

}  // namespace fnft::state
