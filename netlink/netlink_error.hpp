// The one exception type of netlink/: an errno plus a message that names the object (in nft
// syntax), what the kernel said, and what the user can do about it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace fnft::netlink {

class NetlinkError : public std::runtime_error {
 public:
  NetlinkError(int error_code, const std::string& message)
      : std::runtime_error(message), error_code_(error_code) {}

  // A positive errno. ERESTART means "the ruleset changed since we read it": retry from a
  // fresh dump.
  int error_code() const noexcept { return error_code_; }

 private:
  int error_code_;
};

// What the user can do about `error_code` when nftables returns it, or "" when we have
// nothing better to say than the errno text.
std::string_view remedy_for(int error_code);

// "<action>: <strerror>[; kernel says: <details>]. <Remedy>", the shape of every message.
NetlinkError make_error(int error_code, std::string_view action, std::string_view details = {});

}  // namespace fnft::netlink
