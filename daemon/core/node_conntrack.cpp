// NodeDaemon's repair of connections: after every commit that changed the masquerade rules
// (a repair of them, the start-up apply, a mode switch), the conntrack entries that the rules
// now in force would have masqueraded but that carry no source NAT are deleted, so the
// flow's next packet is masqueraded. state/conntrack_repair.hpp decides;
// daemon/core/connection_resetter.hpp runs it off the reactor; here it is asked for, counted
// and logged.
#include <spdlog/spdlog.h>

#include "daemon/core/node_daemon.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::daemon {

void NodeDaemon::reset_missed_masquerade(const std::string& reason) {
  if (!options_.conntrack_reset || !config_ || !config_->options.ip_masq) return;
  // Every mode's postrouting rules mean the same: the nftables mode's, as data.
  state::Ruleset rules = state::desired_nft_ruleset(*config_);
  std::vector<state::Family> families;
  for (const auto& table : rules.tables) families.push_back(table.family);
  if (families.empty()) return;
  connection_resetter_.request(std::move(rules), std::move(families), reason);
}

void NodeDaemon::connections_reset(const ConnectionResetter::Result& result) {
  if (result.error) {
    // The rules come first: a conntrack table that cannot be read costs only the reset.
    if (!said_conntrack_failed_) spdlog::warn("{}", *result.error);
    said_conntrack_failed_ = true;
    return;
  }
  said_conntrack_failed_ = false;
  std::size_t reset = 0;
  std::chrono::microseconds took{0};
  for (const auto& [family, done] : result.families) {
    connections_reset_[family] += done.reset;
    reset += done.reset;
    took += done.took;
    spdlog::debug("conntrack ({}): {} entries without NAT or reply examined, {} reset in {} us",
                  state::family_name(family), done.examined, done.reset, done.took.count());
  }
  if (reset == 0) return;
  spdlog::info("{} connection(s) that missed masquerade reset after {} (in {} us)", reset,
               result.reason, took.count());
}

}  // namespace fnft::daemon
