// The fast path as the node's links are now, for the verbs that run once (`apply`, `dump`):
// one read of rtnetlink instead of following it.
#pragma once

#include <optional>

#include "daemon/config/options.hpp"
#include "netlink/nfnl_socket.hpp"
#include "state/config.hpp"

namespace fnft::daemon {

// nullopt with --flowtable=off. With `socket`, the kernel is asked whether it has flowtables
// (none: a warning on stderr and nullopt, or with --flowtable=required a std::runtime_error)
// and whether it counts offloaded packets; without, both are assumed, as on Debian 12's
// kernel. Throws NetlinkError when rtnetlink cannot be read.
std::optional<state::FastPath> fast_path_now(const FastPathSettings& settings,
                                             netlink::NfnlSocket* socket);

}  // namespace fnft::daemon
