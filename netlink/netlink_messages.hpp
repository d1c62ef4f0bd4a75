// The netlink messages of one datagram, one at a time. libmnl's mnl_nlmsg_ok() compares a
// message's length to the bytes left as an int, so a length of 2 GiB or more passes it and
// mnl_nlmsg_next() then points outside the datagram; here lengths are compared unsigned.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <span>

namespace fnft::netlink {

class NetlinkMessages {
 public:
  explicit NetlinkMessages(std::span<const std::byte> datagram) : datagram_(datagram) {}

  // The next whole message, or nullptr at the end or at a message that claims more bytes
  // than the datagram has left (the rest of such a datagram is not read).
  const nlmsghdr* next() {
    const std::size_t left = datagram_.size() - offset_;
    if (left < sizeof(nlmsghdr)) return nullptr;
    const auto* message = reinterpret_cast<const nlmsghdr*>(datagram_.data() + offset_);
    const std::size_t length = message->nlmsg_len;
    if (length < sizeof(nlmsghdr) || length > left) return nullptr;
    // The last message's padding may be missing: then the next call finds nothing left.
    offset_ += NLMSG_ALIGN(length) < left ? NLMSG_ALIGN(length) : left;
    return message;
  }

 private:
  std::span<const std::byte> datagram_;
  std::size_t offset_ = 0;
};

}  // namespace fnft::netlink
