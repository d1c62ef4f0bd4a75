// Names nftables netlink attributes, so an extended ack's "bad attribute at offset 52" becomes
// "NFTA_RULE_EXPRESSIONS > NFTA_LIST_ELEM #3 (cmp) > NFTA_EXPR_DATA > NFTA_CMP_DATA".
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/detail/netlink_ack.hpp"

namespace fnft::netlink {

// The path of attributes that contains byte `offset` of `request` (an nftables message or a
// batch begin), or "" when the offset lies outside its attributes.
std::string attribute_path_at(const nlmsghdr* request, std::uint32_t offset);

// The device name (NFTA_DEVICE_NAME in a flowtable's or a chain's hook) at byte `offset` of
// `request`, if that is what lies there.
std::optional<std::string> device_name_at(const nlmsghdr* request, std::uint32_t offset);

// Every device name in the hook of `request` (a flowtable or netdev chain message), in order.
std::vector<std::string> device_names_in(const nlmsghdr* request);

// The kernel's own words plus the named offending or missing attribute, "" if it said nothing.
std::string describe_ack_details(const AckInfo& ack, const nlmsghdr* request);

}  // namespace fnft::netlink
