// NodeDaemon's repair of connections: after every commit (a repair, the start-up apply, a
// mode switch), the conntrack entries that the rules now in force would have masqueraded
// but that carry no source NAT are deleted, so the flow's next packet is masqueraded.
// state/conntrack_repair.hpp decides; netlink/conntrack_table.hpp reads and deletes.
#include <spdlog/spdlog.h>

#include <chrono>

#include "daemon/core/node_daemon.hpp"
#include "netlink/netlink_error.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::daemon {

std::string NodeDaemon::reset_missed_masquerade() {
  if (!options_.conntrack_reset || !config_ || !config_->options.ip_masq) return {};
  try {
    if (!conntrack_) conntrack_.emplace();
    // Every mode's postrouting rules mean the same: the nftables mode's, as data.
    const state::Ruleset rules = state::desired_nft_ruleset(*config_);
    std::size_t reset = 0;
    for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
      if (rules.tables.empty() || (family == state::Family::ipv4 ? !config_->ipv4 : !config_->ipv6))
        continue;
      const auto started = std::chrono::steady_clock::now();
      const auto result = conntrack_->reset(family, [&](const state::ConntrackEntry& entry) {
        return state::missed_masquerade(rules, entry);
      });
      connections_reset_[family] += result.deleted;
      reset += result.deleted;
      spdlog::debug("conntrack ({}): {} entries without NAT or reply examined, {} reset in {} us",
                    state::family_name(family), result.examined, result.deleted,
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count());
    }
    said_conntrack_failed_ = false;
    if (reset == 0) return {};
    return "; " + std::to_string(reset) + " connection(s) that missed masquerade reset";
  } catch (const netlink::NetlinkError& error) {
    // The rules come first: a conntrack table that cannot be read costs only the reset.
    if (!said_conntrack_failed_) spdlog::warn("{}", error.what());
    said_conntrack_failed_ = true;
    conntrack_.reset();
    return {};
  }
}

}  // namespace fnft::daemon
