// The one exception type of netlink/: an errno plus a message that names the object (in nft
// syntax), what the kernel said, and what the user can do about it.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "state/one_line.hpp"

namespace fnft::netlink {

// The message of a batch the kernel refused, for callers that can do without part of it.
struct RejectedMessage {
  std::uint16_t type = 0;  // NFT_MSG_*
  // The device (NFTA_DEVICE_NAME) the extended ack pointed at; kernels before 6.3 do not
  // point at it, so a vanished device is a bare ENOENT there.
  std::optional<std::string> device;
  // Every device the message's hook names (NEWFLOWTABLE adds them, DELFLOWTABLE removes them).
  std::vector<std::string> devices;
};

class NetlinkError : public std::runtime_error {
 public:
  // `message` may quote names and words the kernel sent: it is kept to one printable line.
  NetlinkError(int error_code, const std::string& message)
      : std::runtime_error(state::one_line(message)), error_code_(error_code) {}

  // A positive errno. ERESTART means "the ruleset changed since we read it": retry from a
  // fresh dump.
  int error_code() const noexcept { return error_code_; }

  const std::optional<RejectedMessage>& rejected() const noexcept { return rejected_; }
  NetlinkError& with_rejected(RejectedMessage rejected) {
    rejected_ = std::move(rejected);
    return *this;
  }

 private:
  int error_code_;
  std::optional<RejectedMessage> rejected_;
};

// What the user can do about `error_code` when nftables returns it, or "" when we have
// nothing better to say than the errno text.
std::string_view remedy_for(int error_code);

// "<action>: <strerror>[; kernel says: <details>]. <Remedy>", the shape of every message.
NetlinkError make_error(int error_code, std::string_view action, std::string_view details = {});

}  // namespace fnft::netlink
