// Whether iptables-nft's tables hold any of flanneld's iptables rules, read over the nf_tables
// socket the daemon already has: iptables-nft's `nat` and `filter` are nf_tables tables, so
// the nftables mode learns that the iptables mode left nothing behind without running
// iptables-nft-save. Read-only; removing what is found stays the iptables tools' job.
#pragma once

#include "netlink/nfnl_socket.hpp"
#include "state/cidr.hpp"

namespace fnft::netlink {

// True when table `nat` or `filter` of `family` has the chain FLANNEL-POSTRTG or FLANNEL-FWD
// (a jump to them needs them, so no jump can be left without one), or a rule carrying one of
// flanneld's comments ("flanneld masq", "flanneld forward"), as iptables-nft stores a
// `-m comment` (an xt `comment` match) or as rule userdata. Throws NetlinkError.
bool iptables_nft_holds_flanneld_rules(NfnlSocket& socket, state::Family family);

}  // namespace fnft::netlink
