// An IPv4 or IPv6 prefix ("10.244.0.0/16"), the one address type the rules need.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fnft::state {

enum class Family : std::uint8_t { ipv4, ipv6 };

// Every way a family is written, in one place:
// "ip" / "ip6": the nft family keyword and the match prefix ("ip saddr", "ip6 saddr").
std::string_view nft_family_name(Family family);
// "IPv4" / "IPv6": in messages for people.
std::string_view family_name(Family family);
// "ipv4" / "ipv6": metric labels, conntrack's -f, the repair counters.
std::string_view family_label(Family family);
// "iptables" / "ip6tables": the tools' prefix.
std::string_view iptables_family_tool(Family family);

struct Cidr {
  Family family = Family::ipv4;
  // Network byte order; only the first 4 bytes are used for IPv4.
  std::array<std::uint8_t, 16> address{};
  std::uint8_t prefix_length = 0;

  std::size_t address_size() const { return family == Family::ipv4 ? 4 : 16; }
  std::size_t max_prefix_length() const { return address_size() * 8; }

  // The same prefix with every host bit cleared ("10.244.1.1/24" -> "10.244.1.0/24").
  Cidr network() const;
  bool has_host_bits() const { return network() != *this; }
  // True when every address of `inner` lies inside this prefix.
  bool contains(const Cidr& inner) const;
  // The netmask bytes for this prefix length, network byte order.
  std::array<std::uint8_t, 16> mask() const;

  std::string address_string() const;
  std::string to_string() const;  // "10.244.0.0/16"

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

struct CidrParseError {
  std::string reason;  // e.g. "prefix length 33 is out of range 0..32"
};

// Parses "A.B.C.D/N" or "X:X::X/N". The prefix length is required; host bits are kept
// (callers decide whether they are an error or should be cleared).
std::optional<Cidr> parse_cidr(std::string_view text, CidrParseError* error = nullptr);

}  // namespace fnft::state
