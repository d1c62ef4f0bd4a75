// Every base chain of the namespace's nf_tables ruleset, whoever made it (nft, iptables-nft,
// firewalld, Docker): for `doctor`, which looks for the ones that would drop or masquerade
// pod traffic before or besides ours. Read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/nfnl_socket.hpp"

namespace fnft::netlink {

struct BaseChainInfo {
  std::string family;  // "ip", "ip6", "inet", ...
  std::string table;
  std::string chain;
  std::string type;  // "filter", "nat", "route"
  std::string hook;  // "forward", "postrouting", ... ("" for netdev hooks)
  std::int32_t priority = 0;
  bool policy_drop = false;
  bool masquerades = false;  // one of its rules has a `masquerade`
  bool drops = false;        // one of its rules ends in drop or reject (unconditionally or not)
};

std::vector<BaseChainInfo> list_base_chains(NfnlSocket& socket);

}  // namespace fnft::netlink
