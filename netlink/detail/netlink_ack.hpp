// Reads the kernel's answer to one request: the errno and the extended ack (NETLINK_EXT_ACK)
// details, which say which attribute the kernel disliked and why.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fnft::netlink {

struct AckInfo {
  int error = 0;        // positive errno; 0 for a plain ack
  std::string message;  // NLMSGERR_ATTR_MSG
  // NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the request we sent.
  std::optional<std::uint32_t> bad_attribute_offset;
  // NLMSGERR_ATTR_MISS_TYPE / _MISS_NEST: a required attribute we did not send.
  std::optional<std::uint32_t> missing_attribute_type;
  std::optional<std::uint32_t> missing_nest_offset;
};

// `nlh` is an NLMSG_ERROR or NLMSG_DONE message; a truncated one reads as EBADMSG.
AckInfo parse_ack(const nlmsghdr* nlh);

}  // namespace fnft::netlink
