// What the fuzz targets share: netlink messages copied to aligned storage, and the rule
// every message we print obeys (one line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "state/config_parse.hpp"

namespace fnft::fuzz {

// libFuzzer's data has no alignment; the kernel's datagrams are NLMSG_ALIGNTO-aligned.
class AlignedBytes {
 public:
  AlignedBytes(const std::uint8_t* data, std::size_t size)
      : words_((size + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t) + 1), size_(size) {
    if (size != 0) std::memcpy(words_.data(), data, size);
  }
  std::span<const std::byte> bytes() const { return std::as_bytes(std::span(words_)).first(size_); }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

// An error line with a line break in it would split into two journal entries.
inline void require_one_line(std::string_view message) {
  if (message.find('\n') != std::string_view::npos) std::abort();
}

// A dual-stack node's configuration, as the decoders' callers have it.
inline state::NodeConfig example_node_config() {
  const state::SubnetEnv lease = state::parse_subnet_env(
      "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPV6_NETWORK="
      "fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\nFLANNEL_MTU=1450\n",
      "/run/flannel/subnet.env");
  return state::resolve_node_config(lease, "/run/flannel/subnet.env", std::nullopt, "",
                                    state::RuleOptions{});
}

}  // namespace fnft::fuzz
