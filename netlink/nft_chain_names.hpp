// The names of the chains in one nf_tables table, whoever made them: how the daemon sees a
// neighbour's chains (the CNI bridge plugin's masquerade chains in iptables-nft's `nat`)
// without running a program. Read-only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netlink/nfnl_socket.hpp"
#include "state/cidr.hpp"

namespace fnft::netlink {

// Empty when the table does not exist. The kernel filters a chain dump by family only, so
// this reads every chain of the family once. Throws NetlinkError.
std::vector<std::string> list_chain_names(NfnlSocket& socket, state::Family family,
                                          std::string_view table);

}  // namespace fnft::netlink
