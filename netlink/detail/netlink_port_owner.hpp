// Which process holds a netlink socket of this network namespace, for messages that must say
// who owns a table (`flags owner` names only a netlink port). Read-only, from /proc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fnft::netlink {

struct PortOwner {
  int pid = 0;
  std::string name;  // /proc/PID/comm
};

// The process holding the NETLINK_NETFILTER socket bound to `portid` (/proc/net/netlink gives
// its inode, /proc/*/fd the process); nullopt when none is found or /proc cannot be read.
std::optional<PortOwner> netfilter_port_owner(std::uint32_t portid);

// "netlink port 1234: flannel-nftd, pid 1234", or "netlink port 1234" when unknown.
std::string describe_netfilter_port(std::uint32_t portid);

}  // namespace fnft::netlink
