#include "state/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace fnft::state {

std::string_view nft_family_name(Family family) {
  return family == Family::ipv4 ? "ip" : "ip6";
}

std::string_view family_name(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

std::string_view family_label(Family family) {
  return family == Family::ipv4 ? "ipv4" : "ipv6";
}

std::string_view iptables_family_tool(Family family) {
  return family == Family::ipv4 ? "iptables" : "ip6tables";
}

std::array<std::uint8_t, 16> Cidr::mask() const {
  std::array<std::uint8_t, 16> bytes{};
  unsigned remaining = prefix_length;
  for (std::size_t i = 0; i < address_size() && remaining > 0; ++i) {
    const unsigned bits = remaining >= 8 ? 8 : remaining;
    bytes[i] = static_cast<std::uint8_t>(0xff00u >> bits);
    remaining -= bits;
  }
  return bytes;
}

Cidr Cidr::network() const {
  Cidr result = *this;
  const auto netmask = mask();
  for (std::size_t i = 0; i < result.address.size(); ++i) result.address[i] &= netmask[i];
  return result;
}

bool Cidr::contains(const Cidr& inner) const {
  if (inner.family != family || inner.prefix_length < prefix_length) return false;
  Cidr narrowed = inner;
  narrowed.prefix_length = prefix_length;
  return narrowed.network() == network();
}

std::string Cidr::address_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::ipv4 ? AF_INET : AF_INET6, address.data(), buffer, sizeof buffer);
  return buffer;
}

std::string Cidr::to_string() const {
  return address_string() + "/" + std::to_string(prefix_length);
}

std::optional<Cidr> parse_cidr(std::string_view text, CidrParseError* error) {
  auto fail = [error](std::string reason) -> std::optional<Cidr> {
    if (error != nullptr) error->reason = std::move(reason);
    return std::nullopt;
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return fail("missing \"/prefix-length\"");
  const std::string address_text(text.substr(0, slash));
  const std::string_view length_text = text.substr(slash + 1);

  if (address_text.find('\0') != std::string::npos) return fail("the address contains a NUL byte");
  Cidr cidr;
  if (inet_pton(AF_INET, address_text.c_str(), cidr.address.data()) == 1) {
    cidr.family = Family::ipv4;
  } else if (inet_pton(AF_INET6, address_text.c_str(), cidr.address.data()) == 1) {
    cidr.family = Family::ipv6;
  } else {
    return fail("\"" + address_text + "\" is not an IPv4 or IPv6 address");
  }

  unsigned length = 0;
  const auto* begin = length_text.data();
  const auto* end = begin + length_text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, length);
  if (length_text.empty() || ec != std::errc{} || ptr != end) {
    return fail("prefix length \"" + std::string(length_text) + "\" is not a number");
  }
  if (length > cidr.max_prefix_length()) {
    return fail("prefix length " + std::to_string(length) + " is out of range 0.." +
                std::to_string(cidr.max_prefix_length()));
  }
  cidr.prefix_length = static_cast<std::uint8_t>(length);
  return cidr;
}

}  // namespace fnft::state
