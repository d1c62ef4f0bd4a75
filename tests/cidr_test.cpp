#include "state/cidr.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace fnft::state {
namespace {

// Parses a CIDR the test knows to be valid; a typo in the test fails here, loudly.
Cidr cidr(std::string_view text) {
  CidrParseError error;
  const auto parsed = parse_cidr(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error.reason;
  return parsed.value_or(Cidr{});
}

// The reason parse_cidr gives for rejecting `text`, or a marker when it accepts it.
std::string rejection(std::string_view text) {
  CidrParseError error;
  if (parse_cidr(text, &error)) return "<accepted>";
  return error.reason;
}

using Bytes = std::array<std::uint8_t, 16>;

TEST(Cidr, ParsesIpv4AddressAndPrefixInNetworkByteOrder) {
  const Cidr parsed = cidr("10.244.1.1/24");
  EXPECT_EQ(parsed.family, Family::ipv4);
  EXPECT_EQ(parsed.prefix_length, 24);
  EXPECT_EQ(parsed.address, (Bytes{10, 244, 1, 1}));
  EXPECT_EQ(parsed.address_size(), 4u);
  EXPECT_EQ(parsed.max_prefix_length(), 32u);
}

TEST(Cidr, ParsesIpv6AddressAndPrefixInNetworkByteOrder) {
  const Cidr parsed = cidr("fd00:10:244:1::1/64");
  EXPECT_EQ(parsed.family, Family::ipv6);
  EXPECT_EQ(parsed.prefix_length, 64);
  EXPECT_EQ(parsed.address,
            (Bytes{0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parsed.address_size(), 16u);
  EXPECT_EQ(parsed.max_prefix_length(), 128u);
}

TEST(Cidr, KeepsHostBitsUntilAskedToClearThem) {
  const Cidr lease = cidr("10.244.1.1/24");
  EXPECT_TRUE(lease.has_host_bits());
  EXPECT_EQ(lease.network(), cidr("10.244.1.0/24"));
  EXPECT_FALSE(lease.network().has_host_bits());
  EXPECT_NE(lease, lease.network());
}

TEST(Cidr, NetworkClearsHostBitsInsideAByte) {
  EXPECT_EQ(cidr("10.244.255.255/20").network().to_string(), "10.244.240.0/20");
  EXPECT_EQ(cidr("fd00:10:244:1::1/64").network().to_string(), "fd00:10:244:1::/64");
  EXPECT_EQ(cidr("fd00:10:244:1ff::1/56").network().to_string(), "fd00:10:244:100::/56");
  EXPECT_EQ(cidr("10.1.2.3/0").network().to_string(), "0.0.0.0/0");
  EXPECT_EQ(cidr("10.1.2.3/32").network().to_string(), "10.1.2.3/32");
}

TEST(Cidr, ContainsItsSubnetsAndItself) {
  const Cidr cluster = cidr("10.244.0.0/16");
  EXPECT_TRUE(cluster.contains(cidr("10.244.1.0/24")));
  EXPECT_TRUE(cluster.contains(cidr("10.244.255.0/24")));
  EXPECT_TRUE(cluster.contains(cluster));
  EXPECT_TRUE(cluster.contains(cidr("10.244.7.7/32")));
}

TEST(Cidr, DoesNotContainOutsideOrWiderPrefixes) {
  const Cidr cluster = cidr("10.244.0.0/16");
  EXPECT_FALSE(cluster.contains(cidr("10.245.1.0/24")));
  EXPECT_FALSE(cluster.contains(cidr("10.0.0.0/8")));  // wider, though it overlaps
  EXPECT_FALSE(cluster.contains(cidr("fd00:10:244::/64")));
}

TEST(Cidr, ContainsIpv6Subnets) {
  const Cidr cluster = cidr("fd00:10:244::/56");
  EXPECT_TRUE(cluster.contains(cidr("fd00:10:244:1::/64")));
  EXPECT_TRUE(cluster.contains(cidr("fd00:10:244:ff::/64")));
  EXPECT_FALSE(cluster.contains(cidr("fd00:10:244:100::/64")));
  EXPECT_FALSE(cluster.contains(cidr("10.244.0.0/16")));
}

TEST(Cidr, ZeroPrefixContainsEveryAddressOfItsFamilyOnly) {
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(cidr("192.168.1.0/24")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(cidr("::1/128")));
  EXPECT_TRUE(cidr("::/0").contains(cidr("fd00::/8")));
}

TEST(Cidr, MaskOfIpv4Prefixes) {
  EXPECT_EQ(cidr("10.244.0.0/20").mask(), (Bytes{0xff, 0xff, 0xf0, 0x00}));
  EXPECT_EQ(cidr("10.244.0.0/16").mask(), (Bytes{0xff, 0xff, 0x00, 0x00}));
  EXPECT_EQ(cidr("0.0.0.0/0").mask(), Bytes{});
  EXPECT_EQ(cidr("10.0.0.1/32").mask(), (Bytes{0xff, 0xff, 0xff, 0xff}));
}

TEST(Cidr, MaskOfIpv6Prefixes) {
  EXPECT_EQ(cidr("fd00::/56").mask(), (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(cidr("fd00::/65").mask(),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80}));
  Bytes all_ones;
  all_ones.fill(0xff);
  EXPECT_EQ(cidr("::1/128").mask(), all_ones);
  EXPECT_EQ(cidr("::/0").mask(), Bytes{});
}

TEST(Cidr, PrintsIpv4AsDottedQuadWithPrefix) {
  EXPECT_EQ(cidr("10.244.0.0/16").to_string(), "10.244.0.0/16");
  EXPECT_EQ(cidr("10.244.1.1/24").address_string(), "10.244.1.1");
  EXPECT_EQ(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
}

TEST(Cidr, PrintsIpv6InCanonicalShortForm) {
  EXPECT_EQ(cidr("FD00:0010:0244:0000:0000:0000:0000:0000/56").to_string(), "fd00:10:244::/56");
  EXPECT_EQ(cidr("fd00:10:244:1::1/64").address_string(), "fd00:10:244:1::1");
  EXPECT_EQ(cidr("::/0").to_string(), "::/0");
}

TEST(Cidr, RoundTripsThroughToString) {
  for (const auto* text : {"10.244.0.0/16", "192.168.0.1/32", "fd00:10:244::/56", "ff00::/8"}) {
    EXPECT_EQ(cidr(cidr(text).to_string()), cidr(text)) << text;
  }
}

TEST(Cidr, NamesTheNftFamily) {
  EXPECT_EQ(nft_family_name(Family::ipv4), "ip");
  EXPECT_EQ(nft_family_name(Family::ipv6), "ip6");
}

TEST(CidrParse, RejectsAMissingPrefixLength) {
  EXPECT_EQ(rejection("10.244.1.1"), "missing \"/prefix-length\"");
  EXPECT_EQ(rejection("fd00::1"), "missing \"/prefix-length\"");
  EXPECT_EQ(rejection(""), "missing \"/prefix-length\"");
}

TEST(CidrParse, RejectsSomethingThatIsNotAnAddress) {
  EXPECT_EQ(rejection("10.244.0/16"), "\"10.244.0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(rejection("10.244.0.256/16"), "\"10.244.0.256\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(rejection("fd00:::1/64"), "\"fd00:::1\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(rejection("/16"), "\"\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(rejection("cluster/16"), "\"cluster\" is not an IPv4 or IPv6 address");
}

TEST(CidrParse, RejectsAPrefixLengthThatIsNotAPlainNumber) {
  EXPECT_EQ(rejection("10.244.0.0/"), "prefix length \"\" is not a number");
  EXPECT_EQ(rejection("10.244.0.0/abc"), "prefix length \"abc\" is not a number");
  EXPECT_EQ(rejection("10.244.0.0/16x"), "prefix length \"16x\" is not a number");
  EXPECT_EQ(rejection("10.244.0.0/-1"), "prefix length \"-1\" is not a number");
  EXPECT_EQ(rejection("10.244.0.0/+16"), "prefix length \"+16\" is not a number");
  EXPECT_EQ(rejection("10.244.0.0/16/8"), "prefix length \"16/8\" is not a number");
}

TEST(CidrParse, RejectsAPrefixLengthOutOfRangeForTheFamily) {
  EXPECT_EQ(rejection("10.244.0.0/33"), "prefix length 33 is out of range 0..32");
  EXPECT_EQ(rejection("fd00::/129"), "prefix length 129 is out of range 0..128");
  EXPECT_EQ(rejection("10.244.0.0/99999999999999999999"),
            "prefix length \"99999999999999999999\" is not a number");
  EXPECT_EQ(rejection("fd00::/128"), "<accepted>");
  EXPECT_EQ(rejection("10.0.0.0/32"), "<accepted>");
}

TEST(CidrParse, ToleratesANullErrorPointer) {
  EXPECT_FALSE(parse_cidr("not a cidr").has_value());
  EXPECT_TRUE(parse_cidr("10.0.0.0/8").has_value());
}

}  // namespace
}  // namespace fnft::state
