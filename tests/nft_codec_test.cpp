// The codec's promise: decode(encode(rule)) == rule for every rule we build, through libnftnl
// objects and through the netlink bytes; nft's own spellings decode to the same values; and
// anything we do not model decodes to something that is visibly, never silently, different.
//
// Over 400 lines: one suite for one codec, a round trip per kind of rule and object.
#include "netlink/detail/nft_codec.hpp"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <vector>

#include "netlink/detail/nft_attr_names.hpp"
#include "netlink/detail/nft_expr_codec.hpp"
#include "netlink/detail/nl_attributes.hpp"
#include "state/desired_ruleset.hpp"
#include "state/nft_text.hpp"

namespace fnft::netlink {
namespace {

using state::Family;

state::Cidr cidr(const char* text) {
  auto parsed = state::parse_cidr(text);
  if (!parsed) throw std::invalid_argument(text);
  return *parsed;
}

state::NodeConfig dual_stack_config() {
  state::NodeConfig config;
  config.ipv4 = state::FamilyNetworks{cidr("10.244.0.0/16"), cidr("10.244.1.0/24")};
  config.ipv6 = state::FamilyNetworks{cidr("fd00:10:244::/56"), cidr("fd00:10:244:1::/64")};
  return config;
}

state::Rule decode(const nftnl_rule* rule) {
  return decode_rule(rule).rule;
}

// encode -> bytes of an NFT_MSG_NEWRULE -> parse, as the rule travels to and from the kernel.
NftnlRule through_netlink(nftnl_rule* rule, Family family) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, nfproto_of(family),
                                        NLM_F_CREATE | NLM_F_APPEND, 1);
  build_rule_payload(nlh, rule);
  NftnlRule parsed = make_rule();
  EXPECT_GE(nftnl_rule_nlmsg_parse(nlh, parsed.get()), 0);
  return parsed;
}

std::string text(const state::Rule& rule, Family family) {
  return state::to_nft_text(rule, family);
}

state::Rule with_matches(std::vector<state::Match> matches, state::Action::Kind kind) {
  state::Rule rule;
  rule.matches = std::move(matches);
  rule.counter = true;
  rule.action.kind = kind;
  rule.comment = "test rule";
  return rule;
}

void append(nftnl_rule* rule, NftnlExpr expr) {
  nftnl_rule_add_expr(rule, expr.release());
}

NftnlExpr payload_load(std::uint32_t offset, std::uint32_t length) {
  NftnlExpr expr = make_expr("payload");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_LEN, length);
  return expr;
}

NftnlExpr bitwise_and(std::vector<std::uint8_t> mask) {
  const std::vector<std::uint8_t> zero(mask.size(), 0);
  NftnlExpr expr = make_expr("bitwise");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_LEN, static_cast<std::uint32_t>(mask.size()));
  nftnl_expr_set(expr.get(), NFTNL_EXPR_BITWISE_MASK, mask.data(),
                 static_cast<std::uint32_t>(mask.size()));
  nftnl_expr_set(expr.get(), NFTNL_EXPR_BITWISE_XOR, zero.data(),
                 static_cast<std::uint32_t>(zero.size()));
  return expr;
}

NftnlExpr compare(std::uint32_t op, std::vector<std::uint8_t> value) {
  NftnlExpr expr = make_expr("cmp");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(expr.get(), NFTNL_EXPR_CMP_DATA, value.data(),
                 static_cast<std::uint32_t>(value.size()));
  return expr;
}

NftnlExpr verdict(std::int32_t code) {
  NftnlExpr expr = make_expr("immediate");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(code));
  return expr;
}

std::vector<const nftnl_expr*> expressions_of(const nftnl_rule* rule) {
  std::vector<const nftnl_expr*> exprs;
  NftnlExprIter iter(nftnl_expr_iter_create(rule));
  for (auto* expr = nftnl_expr_iter_next(iter.get()); expr != nullptr;
       expr = nftnl_expr_iter_next(iter.get())) {
    exprs.push_back(expr);
  }
  return exprs;
}

// The captures below were taken in tables named flannel-ipv4 / flannel-ipv6; a table's name is
// only the first attribute of each message, so the tests encode ours under the same names.
constexpr const char* kCapturedIpv4Table = "flannel-ipv4";
constexpr const char* kCapturedIpv6Table = "flannel-ipv6";

// The attributes (after nfgenmsg) of the NFT_MSG_NEWRULE messages `nft -f` (nftables 1.0.6,
// libnftnl 1.2.4) sends for rules 1 and 5 of the IPv4 postrtg chain and rule 5 of the IPv6
// postrtg chain of the dual-stack config below, captured with `nft --debug=mnl -f` in a netns.
constexpr std::uint8_t kNftMarkRule[] = {
    0x11, 0x00, 0x01, 0x00, 0x66, 0x6c, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0x2d, 0x69, 0x70, 0x76, 0x34,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x70, 0x6f, 0x73, 0x74, 0x72, 0x74, 0x67, 0x00,
    0xe4, 0x00, 0x04, 0x80, 0x24, 0x00, 0x01, 0x80, 0x09, 0x00, 0x01, 0x00, 0x6d, 0x65, 0x74, 0x61,
    0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x02, 0x80, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x4c, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00,
    0x62, 0x69, 0x74, 0x77, 0x69, 0x73, 0x65, 0x00, 0x3c, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x06, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x0c, 0x00, 0x04, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00, 0x63, 0x6d, 0x70, 0x00,
    0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00,
    0x14, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00,
    0x04, 0x00, 0x02, 0x80, 0x30, 0x00, 0x01, 0x80, 0x0e, 0x00, 0x01, 0x00, 0x69, 0x6d, 0x6d, 0x65,
    0x64, 0x69, 0x61, 0x74, 0x65, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x80, 0x0c, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0xff, 0xff, 0xff, 0xfb, 0x33, 0x00, 0x07, 0x00, 0x00, 0x2d, 0x6b, 0x75, 0x62, 0x65, 0x2d, 0x70,
    0x72, 0x6f, 0x78, 0x79, 0x20, 0x6d, 0x61, 0x72, 0x6b, 0x65, 0x64, 0x3a, 0x20, 0x6d, 0x61, 0x73,
    0x71, 0x75, 0x65, 0x72, 0x61, 0x64, 0x65, 0x64, 0x20, 0x62, 0x79, 0x20, 0x6b, 0x75, 0x62, 0x65,
    0x2d, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x00, 0x00};

constexpr std::uint8_t kNftIpv4MasqueradeRule[] = {
    0x11, 0x00, 0x01, 0x00, 0x66, 0x6c, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0x2d, 0x69, 0x70, 0x76, 0x34,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x70, 0x6f, 0x73, 0x74, 0x72, 0x74, 0x67, 0x00,
    0x38, 0x01, 0x04, 0x80, 0x34, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x70, 0x61, 0x79, 0x6c,
    0x6f, 0x61, 0x64, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x0c,
    0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x2c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x63, 0x6d, 0x70, 0x00, 0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x80, 0x06, 0x00, 0x01, 0x00,
    0x0a, 0xf4, 0x00, 0x00, 0x34, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x70, 0x61, 0x79, 0x6c,
    0x6f, 0x61, 0x64, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x44, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00,
    0x62, 0x69, 0x74, 0x77, 0x69, 0x73, 0x65, 0x00, 0x34, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00,
    0x00, 0x00, 0x00, 0x04, 0x0c, 0x00, 0x04, 0x80, 0x08, 0x00, 0x01, 0x00, 0xf0, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x05, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x63, 0x6d, 0x70, 0x00, 0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x03, 0x80,
    0x08, 0x00, 0x01, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00,
    0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x04, 0x00, 0x02, 0x80, 0x1c, 0x00, 0x01, 0x80,
    0x09, 0x00, 0x01, 0x00, 0x6d, 0x61, 0x73, 0x71, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x25, 0x00, 0x07, 0x00, 0x00, 0x1f, 0x63, 0x6c,
    0x75, 0x73, 0x74, 0x65, 0x72, 0x20, 0x74, 0x6f, 0x20, 0x6f, 0x75, 0x74, 0x73, 0x69, 0x64, 0x65,
    0x3a, 0x20, 0x6d, 0x61, 0x73, 0x71, 0x75, 0x65, 0x72, 0x61, 0x64, 0x65, 0x00, 0x00, 0x00, 0x00};

constexpr std::uint8_t kNftIpv6MasqueradeRule[] = {
    0x11, 0x00, 0x01, 0x00, 0x66, 0x6c, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0x2d, 0x69, 0x70, 0x76, 0x36,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x70, 0x6f, 0x73, 0x74, 0x72, 0x74, 0x67, 0x00,
    0xf8, 0x00, 0x04, 0x80, 0x34, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x70, 0x61, 0x79, 0x6c,
    0x6f, 0x61, 0x64, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x08,
    0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x07, 0x30, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x63, 0x6d, 0x70, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x03, 0x80, 0x0b, 0x00, 0x01, 0x00,
    0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x00, 0x34, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00,
    0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00,
    0x00, 0x00, 0x00, 0x18, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x63, 0x6d, 0x70, 0x00, 0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x03, 0x80,
    0x05, 0x00, 0x01, 0x00, 0xff, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00,
    0x63, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x04, 0x00, 0x02, 0x80, 0x1c, 0x00, 0x01, 0x80,
    0x09, 0x00, 0x01, 0x00, 0x6d, 0x61, 0x73, 0x71, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x25, 0x00, 0x07, 0x00, 0x00, 0x1f, 0x63, 0x6c,
    0x75, 0x73, 0x74, 0x65, 0x72, 0x20, 0x74, 0x6f, 0x20, 0x6f, 0x75, 0x74, 0x73, 0x69, 0x64, 0x65,
    0x3a, 0x20, 0x6d, 0x61, 0x73, 0x71, 0x75, 0x65, 0x72, 0x61, 0x64, 0x65, 0x00, 0x00, 0x00, 0x00};

// Our attributes of the NEWRULE message for `rule`, as NftBatch sends them.
std::vector<std::uint8_t> our_rule_attributes(Family family, const char* table, const char* chain,
                                              const state::Rule& rule) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, nfproto_of(family),
                                        NLM_F_CREATE | NLM_F_APPEND, 1);
  const NftnlRule encoded = encode_rule(family, table, chain, rule);
  build_rule_payload(nlh, encoded.get());
  const auto* begin =
      static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  return {begin, reinterpret_cast<const std::uint8_t*>(nlh) + nlh->nlmsg_len};
}

class DesiredRules : public ::testing::TestWithParam<Family> {};

TEST_P(DesiredRules, EveryRuleRoundTripsThroughLibnftnlObjects) {
  const Family family = GetParam();
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  const state::Table* table = desired.find_table(family, state::table_name(family));
  ASSERT_NE(table, nullptr);
  std::size_t rules = 0;
  for (const auto& chain : table->chains) {
    for (const auto& rule : chain.rules) {
      const NftnlRule encoded = encode_rule(family, table->name, chain.name, rule);
      const DecodedRule decoded = decode_rule(encoded.get());
      EXPECT_EQ(decoded.rule, rule)
          << "want: " << text(rule, family) << "\n got: " << text(decoded.rule, family);
      EXPECT_EQ(decoded.family, family);
      EXPECT_EQ(decoded.table, table->name);
      EXPECT_EQ(decoded.chain, chain.name);
      ++rules;
    }
  }
  EXPECT_EQ(rules, 8u);
}

TEST_P(DesiredRules, EveryRuleRoundTripsThroughNetlinkMessages) {
  const Family family = GetParam();
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  const state::Table* table = desired.find_table(family, state::table_name(family));
  ASSERT_NE(table, nullptr);
  for (const auto& chain : table->chains) {
    for (const auto& rule : chain.rules) {
      const NftnlRule encoded = encode_rule(family, table->name, chain.name, rule);
      const NftnlRule parsed = through_netlink(encoded.get(), family);
      const state::Rule decoded = decode(parsed.get());
      EXPECT_EQ(decoded, rule) << "want: " << text(rule, family)
                               << "\n got: " << text(decoded, family);
    }
  }
}

TEST_P(DesiredRules, TablesAndBaseChainsRoundTrip) {
  const Family family = GetParam();
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  const state::Table* table = desired.find_table(family, state::table_name(family));
  ASSERT_NE(table, nullptr);
  const NftnlTable encoded_table = encode_table(family, table->name);
  const state::Table decoded_table = decode_table(encoded_table.get());
  EXPECT_EQ(decoded_table.family, family);
  EXPECT_EQ(decoded_table.name, table->name);
  for (const auto& chain : table->chains) {
    const NftnlChain encoded = encode_chain(family, table->name, chain.name, chain.base);
    const DecodedChain decoded = decode_chain(encoded.get());
    EXPECT_EQ(decoded.table, table->name);
    EXPECT_EQ(decoded.chain.name, chain.name);
    EXPECT_EQ(decoded.chain.base, chain.base);
    EXPECT_TRUE(decoded.chain.rules.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, DesiredRules, ::testing::Values(Family::ipv4, Family::ipv6),
                         [](const auto& param_info) {
                           return std::string(family_label(param_info.param));
                         });

// The fast path's rule, `ip saddr 10.244.0.0/16 ct state established counter flow add
// @fastpath comment "..."` in the IPv4 forward chain, and flowtable fastpath { hook ingress
// priority filter; devices = { lo, uplink }; counter; } as nft 1.0.6 sends them (captured
// with `nft --debug=mnl -c -f`; this host's kernel refuses both, which does not change what
// nft sends).
constexpr std::uint8_t kNftOffloadRule[] = {
    0x11, 0x00, 0x01, 0x00, 0x66, 0x6c, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0x2d, 0x69, 0x70, 0x76, 0x34,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x66, 0x6f, 0x72, 0x77, 0x61, 0x72, 0x64, 0x00,
    0x34, 0x01, 0x04, 0x80, 0x34, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x70, 0x61, 0x79, 0x6c,
    0x6f, 0x61, 0x64, 0x00, 0x24, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x0c,
    0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x2c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x63, 0x6d, 0x70, 0x00, 0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x80, 0x06, 0x00, 0x01, 0x00,
    0x0a, 0xf4, 0x00, 0x00, 0x20, 0x00, 0x01, 0x80, 0x07, 0x00, 0x01, 0x00, 0x63, 0x74, 0x00, 0x00,
    0x14, 0x00, 0x02, 0x80, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x44, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x62, 0x69, 0x74, 0x77,
    0x69, 0x73, 0x65, 0x00, 0x34, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x04,
    0x0c, 0x00, 0x04, 0x80, 0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x80,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x63, 0x6d, 0x70, 0x00, 0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x03, 0x80, 0x08, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x00, 0x63, 0x6f, 0x75, 0x6e,
    0x74, 0x65, 0x72, 0x00, 0x04, 0x00, 0x02, 0x80, 0x2c, 0x00, 0x01, 0x80, 0x11, 0x00, 0x01, 0x00,
    0x66, 0x6c, 0x6f, 0x77, 0x5f, 0x6f, 0x66, 0x66, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x02, 0x80, 0x0d, 0x00, 0x01, 0x00, 0x66, 0x61, 0x73, 0x74, 0x70, 0x61, 0x74, 0x68,
    0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x07, 0x00, 0x00, 0x23, 0x66, 0x61, 0x73, 0x74, 0x20, 0x70,
    0x61, 0x74, 0x68, 0x3a, 0x20, 0x65, 0x73, 0x74, 0x61, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x65, 0x64,
    0x20, 0x70, 0x6f, 0x64, 0x20, 0x74, 0x72, 0x61, 0x66, 0x66, 0x69, 0x63, 0x00, 0x00, 0x00, 0x00};

constexpr std::uint8_t kNftFlowtable[] = {
    0x11, 0x00, 0x01, 0x00, 0x66, 0x6c, 0x61, 0x6e, 0x6e, 0x65, 0x6c, 0x2d, 0x69, 0x70, 0x76,
    0x34, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x02, 0x00, 0x66, 0x61, 0x73, 0x74, 0x70, 0x61,
    0x74, 0x68, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x03, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x03, 0x80,
    0x0b, 0x00, 0x01, 0x00, 0x75, 0x70, 0x6c, 0x69, 0x6e, 0x6b, 0x00, 0x00, 0x07, 0x00, 0x01,
    0x00, 0x6c, 0x6f, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x02};

// Where two byte strings first differ, with the bytes around it, for a failure message.
std::string first_difference(const std::vector<std::uint8_t>& ours,
                             const std::vector<std::uint8_t>& nfts) {
  std::size_t at = 0;
  while (at < ours.size() && at < nfts.size() && ours[at] == nfts[at]) ++at;
  const auto around = [at](const std::vector<std::uint8_t>& bytes) {
    std::string text;
    for (std::size_t i = at < 8 ? 0 : at - 8; i < bytes.size() && i < at + 16; ++i) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%02x ", bytes[i]);
      text += hex;
    }
    return text;
  };
  return "first difference at byte " + std::to_string(at) + " (sizes " +
         std::to_string(ours.size()) + " and " + std::to_string(nfts.size()) +
         ")\n ours: " + around(ours) + "\n  nft: " + around(nfts);
}

state::FastPath fast_path() {
  return state::FastPath{{"lo", "uplink"}, true};
}

TEST(NftCodec, TheFastPathRuleIsByteForByteWhatNftSends) {
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config(), fast_path());
  const state::Chain* forward = desired.tables.at(0).find_chain("forward");
  ASSERT_NE(forward, nullptr);
  using Bytes = std::vector<std::uint8_t>;
  const Bytes ours =
      our_rule_attributes(Family::ipv4, kCapturedIpv4Table, "forward", forward->rules.at(0));
  const Bytes nfts(std::begin(kNftOffloadRule), std::end(kNftOffloadRule));
  EXPECT_EQ(ours, nfts) << first_difference(ours, nfts);
}

// nft lists the devices the other way round; the flowtable they describe is the same.
TEST(NftCodec, NftsFlowtableMessageDecodesToOurFlowtable) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWFLOWTABLE, NFPROTO_IPV4, 0, 1);
  std::memcpy(mnl_nlmsg_get_payload_tail(nlh), kNftFlowtable, sizeof kNftFlowtable);
  nlh->nlmsg_len += MNL_ALIGN(sizeof kNftFlowtable);
  const NftnlFlowtable parsed = make_flowtable();
  ASSERT_GE(nftnl_flowtable_nlmsg_parse(nlh, parsed.get()), 0);
  const DecodedFlowtable decoded = decode_flowtable(parsed.get());
  EXPECT_EQ(decoded.table, kCapturedIpv4Table);
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config(), fast_path());
  EXPECT_EQ(decoded.flowtable, desired.tables.at(0).flowtables.at(0));
}

TEST(NftCodec, FlowtablesRoundTripThroughNetlinkMessages) {
  for (const bool counter : {true, false}) {
    const state::Flowtable flowtable{"fastpath", -5, {"cni0", "eth0", "flannel.1"}, counter};
    const NftnlFlowtable encoded = encode_flowtable(Family::ipv6, "flannel-nftd-ipv6", flowtable);
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWFLOWTABLE, NFPROTO_IPV6, NLM_F_CREATE, 1);
    nftnl_flowtable_nlmsg_build_payload(nlh, encoded.get());
    const NftnlFlowtable parsed = make_flowtable();
    ASSERT_GE(nftnl_flowtable_nlmsg_parse(nlh, parsed.get()), 0);
    const DecodedFlowtable decoded = decode_flowtable(parsed.get());
    EXPECT_EQ(decoded.table, "flannel-nftd-ipv6");
    EXPECT_EQ(decoded.flowtable, flowtable);
  }
}

TEST(NftCodec, TheFastPathRulesRoundTripAndReadLikeNft) {
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config(), fast_path());
  for (const auto& table : desired.tables) {
    const state::Rule& rule = table.find_chain("forward")->rules.at(0);
    const NftnlRule encoded = encode_rule(table.family, table.name, "forward", rule);
    EXPECT_EQ(decode(through_netlink(encoded.get(), table.family).get()), rule);
  }
  EXPECT_EQ(text(desired.tables.at(0).find_chain("forward")->rules.at(0), Family::ipv4),
            "ip saddr 10.244.0.0/16 ct state established counter flow add @fastpath comment "
            "\"fast path: established pod traffic\"");
}

TEST(NftCodec, OtherCtStatesAndTheirNegationAreKeptApart) {
  for (const std::uint32_t states : {0x2u, 0x6u, 0x8u}) {
    state::Rule rule = with_matches({state::CtStateMatch{states}}, state::Action::Kind::accept);
    const NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", rule);
    EXPECT_EQ(decode(through_netlink(encoded.get(), Family::ipv4).get()), rule);
  }
  // `ct state != established` (cmp eq 0 after the mask) is not ours.
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  NftnlExpr ct = make_expr("ct");
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
  append(rule.get(), std::move(ct));
  append(rule.get(), bitwise_and({0x02, 0, 0, 0}));
  append(rule.get(), compare(NFT_CMP_EQ, {0, 0, 0, 0}));
  const state::Rule decoded = decode(rule.get());
  ASSERT_EQ(decoded.matches.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<state::UnknownExpression>(decoded.matches[0]));
}

TEST(NftCodec, RuleMessagesAreByteForByteWhatNftSends) {
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  const auto& v4 = desired.tables.at(0).chains.at(0).rules;
  const auto& v6 = desired.tables.at(1).chains.at(0).rules;
  using Bytes = std::vector<std::uint8_t>;
  EXPECT_EQ(our_rule_attributes(Family::ipv4, kCapturedIpv4Table, "postrtg", v4.at(0)),
            Bytes(std::begin(kNftMarkRule), std::end(kNftMarkRule)));
  EXPECT_EQ(our_rule_attributes(Family::ipv4, kCapturedIpv4Table, "postrtg", v4.at(4)),
            Bytes(std::begin(kNftIpv4MasqueradeRule), std::end(kNftIpv4MasqueradeRule)));
  EXPECT_EQ(our_rule_attributes(Family::ipv6, kCapturedIpv6Table, "postrtg", v6.at(4)),
            Bytes(std::begin(kNftIpv6MasqueradeRule), std::end(kNftIpv6MasqueradeRule)));
}

TEST(NftCodec, TablePropertiesTheModelLacksAreNamed) {
  const NftnlTable plain = encode_table(Family::ipv4, "flannel-nftd-ipv4");
  EXPECT_TRUE(unmodeled_table_properties(plain.get()).empty());

  // upstream flanneld's table: `comment "rules for flannel-ipv4"`; and someone's `flags dormant`.
  const NftnlTable upstream = encode_table(Family::ipv4, "flannel-ipv4");
  nftnl_table_set_u32(upstream.get(), NFTNL_TABLE_FLAGS, NFT_TABLE_F_DORMANT);
  NftnlUdataBuf userdata(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  ASSERT_TRUE(
      nftnl_udata_put_strz(userdata.get(), NFTNL_UDATA_TABLE_COMMENT, "rules for flannel-ipv4"));
  nftnl_table_set_data(upstream.get(), NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(userdata.get()),
                       nftnl_udata_buf_len(userdata.get()));
  EXPECT_EQ(unmodeled_table_properties(upstream.get()),
            (std::vector<std::string>{"flags dormant", "comment \"rules for flannel-ipv4\""}));
}

TEST(NftCodec, TableProtectionIsReadAgainstOurOwnPort) {
  const NftnlTable held = encode_table(Family::ipv4, "flannel-nftd-ipv4", state::Protection::held);
  EXPECT_EQ(nftnl_table_get_u32(held.get(), NFTNL_TABLE_FLAGS),
            static_cast<std::uint32_t>(NFT_TABLE_F_OWNER) | kTableFlagPersist);
  nftnl_table_set_u32(held.get(), NFTNL_TABLE_OWNER, 4242);
  // Ours: modeled, nothing else to say.
  EXPECT_EQ(decode_table(held.get(), 4242).protection, state::Protection::held);
  EXPECT_TRUE(unmodeled_table_properties(held.get(), 4242).empty());
  // Another socket's: not ours to model, and named.
  EXPECT_EQ(decode_table(held.get(), 77).protection, state::Protection::none);
  EXPECT_EQ(unmodeled_table_properties(held.get(), 77), std::vector<std::string>{"flags owner"});
  // Its owner gone: persist alone.
  const NftnlTable orphan = encode_table(Family::ipv4, "flannel-nftd-ipv4");
  nftnl_table_set_u32(orphan.get(), NFTNL_TABLE_FLAGS, kTableFlagPersist);
  EXPECT_EQ(decode_table(orphan.get(), 4242).protection, state::Protection::orphaned);
  EXPECT_TRUE(unmodeled_table_properties(orphan.get(), 4242).empty());
}

TEST(NftCodec, RegularChainHasNoBase) {
  const NftnlChain encoded = encode_chain(Family::ipv4, "t", "jump-target", std::nullopt);
  EXPECT_FALSE(decode_chain(encoded.get()).chain.base.has_value());
}

TEST(NftCodec, DropPolicyAndCustomPriorityRoundTrip) {
  const state::BaseChain base{state::ChainType::filter, state::Hook::input, -150,
                              state::Policy::drop};
  const NftnlChain encoded = encode_chain(Family::ipv6, "t", "c", base);
  EXPECT_EQ(decode_chain(encoded.get()).chain.base, base);
}

TEST(NftCodec, MaskedAndExactMarkMatchesRoundTripAndDiffer) {
  const state::Rule masked =
      with_matches({state::MarkMatch{0x4000, 0x4000}}, state::Action::Kind::return_);
  const state::Rule exact =
      with_matches({state::MarkMatch{0xffffffff, 0x4000}}, state::Action::Kind::return_);
  const NftnlRule masked_encoded = encode_rule(Family::ipv4, "t", "c", masked);
  const NftnlRule exact_encoded = encode_rule(Family::ipv4, "t", "c", exact);
  EXPECT_EQ(decode(through_netlink(masked_encoded.get(), Family::ipv4).get()), masked);
  EXPECT_EQ(decode(through_netlink(exact_encoded.get(), Family::ipv4).get()), exact);
  EXPECT_NE(decode(masked_encoded.get()), exact);
  // nft: meta load mark; bitwise; cmp   versus   meta load mark; cmp
  EXPECT_EQ(expressions_of(masked_encoded.get()).size(), 5u);
  EXPECT_EQ(expressions_of(exact_encoded.get()).size(), 4u);
}

TEST(NftCodec, MarkValuesAreHostByteOrder) {
  const state::Rule rule =
      with_matches({state::MarkMatch{0xffffffff, 0x4000}}, state::Action::Kind::none);
  const NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", rule);
  const auto exprs = expressions_of(encoded.get());
  std::uint32_t length = 0;
  const void* data = nftnl_expr_get(exprs[1], NFTNL_EXPR_CMP_DATA, &length);
  ASSERT_EQ(length, 4u);
  std::uint32_t value = 0;
  std::memcpy(&value, data, sizeof value);
  EXPECT_EQ(value, 0x4000u);
}

TEST(NftCodec, NegationAndFullLengthPrefixesRoundTrip) {
  const std::vector<std::pair<Family, state::Rule>> cases = {
      {Family::ipv4,
       with_matches({state::AddressMatch{state::AddressField::saddr, true, cidr("10.1.2.3/32")}},
                    state::Action::Kind::drop)},
      {Family::ipv4,
       with_matches({state::AddressMatch{state::AddressField::daddr, false, cidr("0.0.0.0/0")}},
                    state::Action::Kind::accept)},
      {Family::ipv4,
       with_matches({state::AddressMatch{state::AddressField::daddr, true, cidr("10.0.0.0/9")}},
                    state::Action::Kind::accept)},
      {Family::ipv6,
       with_matches({state::AddressMatch{state::AddressField::daddr, true, cidr("fd00::1/128")}},
                    state::Action::Kind::accept)},
      {Family::ipv6, with_matches({state::AddressMatch{state::AddressField::saddr, false,
                                                       cidr("fd00:10:240::/44")}},
                                  state::Action::Kind::return_)},
  };
  for (const auto& [family, rule] : cases) {
    const NftnlRule encoded = encode_rule(family, "t", "c", rule);
    const state::Rule decoded = decode(through_netlink(encoded.get(), family).get());
    EXPECT_EQ(decoded, rule) << "want: " << text(rule, family)
                             << "\n got: " << text(decoded, family);
  }
}

TEST(NftCodec, JumpAndPlainMasqueradeRoundTrip) {
  state::Rule jump = with_matches({}, state::Action::Kind::jump);
  jump.action.target = "flannel-extra";
  state::Rule masquerade = with_matches({}, state::Action::Kind::masquerade);
  state::Rule random = masquerade;
  random.action.fully_random = true;
  for (const auto& rule : {jump, masquerade, random}) {
    const NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", rule);
    EXPECT_EQ(decode(through_netlink(encoded.get(), Family::ipv4).get()), rule)
        << text(rule, Family::ipv4);
  }
  EXPECT_NE(masquerade, random);
}

TEST(NftCodec, FullyRandomIsTheMasqFlag) {
  state::Rule rule = with_matches({}, state::Action::Kind::masquerade);
  rule.action.fully_random = true;
  const NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", rule);
  const auto exprs = expressions_of(encoded.get());
  ASSERT_EQ(exprs.size(), 2u);  // counter, masq
  EXPECT_EQ(nftnl_expr_get_u32(exprs[1], NFTNL_EXPR_MASQ_FLAGS),
            static_cast<std::uint32_t>(NF_NAT_RANGE_PROTO_RANDOM_FULLY));
}

// `ip6 daddr != ff00::/8` as nft -f loads it: payload load 1b @ network header + 24; cmp neq 0xff.
TEST(NftCodec, NftShortenedPrefixLoadDecodesToTheSameMatch) {
  const state::AddressMatch want{state::AddressField::daddr, true, cidr("ff00::/8")};
  NftnlRule shortened = make_rule();
  nftnl_rule_set_u32(shortened.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV6);
  append(shortened.get(), payload_load(24, 1));
  append(shortened.get(), compare(NFT_CMP_NEQ, {0xff}));
  EXPECT_EQ(decode(shortened.get()).matches, std::vector<state::Match>{want});

  // The same prefix spelled as a masked load of the whole address.
  std::vector<std::uint8_t> mask(16, 0), value(16, 0);
  mask[0] = 0xff;
  value[0] = 0xff;
  NftnlRule masked = make_rule();
  nftnl_rule_set_u32(masked.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV6);
  append(masked.get(), payload_load(24, 16));
  append(masked.get(), bitwise_and(mask));
  append(masked.get(), compare(NFT_CMP_NEQ, value));
  EXPECT_EQ(decode(masked.get()).matches, std::vector<state::Match>{want});

  // And a masked load of fewer bytes than the address (what newer nft versions may emit).
  NftnlRule partial = make_rule();
  nftnl_rule_set_u32(partial.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  append(partial.get(), payload_load(12, 3));
  append(partial.get(), bitwise_and({0xff, 0xff, 0xf0}));
  append(partial.get(), compare(NFT_CMP_EQ, {10, 244, 16}));
  const state::AddressMatch twenty{state::AddressField::saddr, false, cidr("10.244.16.0/20")};
  EXPECT_EQ(decode(partial.get()).matches, std::vector<state::Match>{twenty});
}

TEST(NftCodec, EncoderUsesNftsShortLoadForByteAlignedPrefixes) {
  const state::Rule rule =
      with_matches({state::AddressMatch{state::AddressField::daddr, true, cidr("ff00::/8")}},
                   state::Action::Kind::none);
  const NftnlRule encoded = encode_rule(Family::ipv6, "t", "c", rule);
  const auto exprs = expressions_of(encoded.get());
  ASSERT_EQ(exprs.size(), 3u);  // payload, cmp, counter
  EXPECT_EQ(nftnl_expr_get_u32(exprs[0], NFTNL_EXPR_PAYLOAD_LEN), 1u);
  EXPECT_EQ(nftnl_expr_get_u32(exprs[0], NFTNL_EXPR_PAYLOAD_OFFSET), 24u);
  EXPECT_EQ(nftnl_expr_get_u32(exprs[1], NFTNL_EXPR_CMP_OP),
            static_cast<std::uint32_t>(NFT_CMP_NEQ));
}

TEST(NftCodec, ForeignLogExpressionDecodesUnequalAndShowsInText) {
  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  const state::Rule& rule = desired.tables[0].chains[1].rules[0];  // forward from cluster
  // The desired rule with a `log` statement spliced in before its counter.
  state::Rule matches_only = rule;
  matches_only.counter = false;
  matches_only.action = {};
  matches_only.comment.clear();
  NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", matches_only);
  NftnlExpr log = make_expr("log");
  nftnl_expr_set_str(log.get(), NFTNL_EXPR_LOG_PREFIX, "sniffed: ");
  append(encoded.get(), std::move(log));
  append(encoded.get(), make_expr("counter"));
  append(encoded.get(), verdict(NF_ACCEPT));
  const state::Rule decoded = decode(through_netlink(encoded.get(), Family::ipv4).get());
  EXPECT_NE(decoded, rule);
  const std::string printed = text(decoded, Family::ipv4);
  EXPECT_NE(printed.find("ip saddr 10.244.0.0/16 <unknown: log"), std::string::npos) << printed;
  EXPECT_NE(printed.find("sniffed"), std::string::npos) << printed;
  EXPECT_NE(printed.find("counter accept"), std::string::npos) << printed;
}

// `ct state established,related` : ct load; bitwise; cmp neq 0 becomes ONE unknown match.
TEST(NftCodec, UnknownLoadKeepsItsRegisterOperationsTogether) {
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  NftnlExpr ct = make_expr("ct");
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
  append(rule.get(), std::move(ct));
  append(rule.get(), bitwise_and({0x06, 0, 0, 0}));
  append(rule.get(), compare(NFT_CMP_NEQ, {0, 0, 0, 0}));
  append(rule.get(), verdict(NF_ACCEPT));
  const state::Rule decoded = decode(rule.get());
  ASSERT_EQ(decoded.matches.size(), 1u);
  const auto* unknown = std::get_if<state::UnknownExpression>(&decoded.matches[0]);
  ASSERT_NE(unknown, nullptr);
  EXPECT_NE(unknown->description.find("ct load mark"), std::string::npos) << unknown->description;
  EXPECT_NE(unknown->description.find("cmp neq"), std::string::npos) << unknown->description;
  EXPECT_EQ(decoded.action.kind, state::Action::Kind::accept);
}

TEST(NftCodec, NegatedMarkIsNotAMarkMatch) {
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  NftnlExpr meta = make_expr("meta");
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, NFT_META_MARK);
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
  append(rule.get(), std::move(meta));
  append(rule.get(), compare(NFT_CMP_NEQ, {0x00, 0x40, 0, 0}));
  const state::Rule decoded = decode(rule.get());
  ASSERT_EQ(decoded.matches.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<state::UnknownExpression>(decoded.matches[0]));
}

TEST(NftCodec, CounterBeforeMatchIsOutOfOrderAndUnequal) {
  const state::Rule want =
      with_matches({state::AddressMatch{state::AddressField::saddr, false, cidr("10.244.0.0/16")}},
                   state::Action::Kind::accept);
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  append(rule.get(), make_expr("counter"));
  append(rule.get(), payload_load(12, 2));
  append(rule.get(), compare(NFT_CMP_EQ, {10, 244}));
  append(rule.get(), verdict(NF_ACCEPT));
  state::Rule decoded = decode(rule.get());
  decoded.comment = want.comment;
  EXPECT_NE(decoded, want);
  EXPECT_EQ(text(decoded, Family::ipv4),
            "<unknown: counter> <unknown: ip saddr 10.244.0.0/16> <unknown: accept> comment \"test "
            "rule\"");
}

TEST(NftCodec, GotoAndOtherMasqFlagsAreUnknown) {
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  NftnlExpr go = verdict(NFT_GOTO);
  nftnl_expr_set_str(go.get(), NFTNL_EXPR_IMM_CHAIN, "elsewhere");
  append(rule.get(), std::move(go));
  EXPECT_TRUE(std::holds_alternative<state::UnknownExpression>(decode(rule.get()).matches.at(0)));

  NftnlRule masq = make_rule();
  nftnl_rule_set_u32(masq.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  NftnlExpr persistent = make_expr("masq");
  nftnl_expr_set_u32(persistent.get(), NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PERSISTENT);
  append(masq.get(), std::move(persistent));
  EXPECT_TRUE(std::holds_alternative<state::UnknownExpression>(decode(masq.get()).matches.at(0)));
}

TEST(NftCodec, HostBitsInComparedAddressAreUnknown) {
  NftnlRule rule = make_rule();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  append(rule.get(), payload_load(12, 4));
  append(rule.get(), bitwise_and({0xff, 0xff, 0, 0}));
  append(rule.get(), compare(NFT_CMP_EQ, {10, 244, 0, 1}));  // can never match
  EXPECT_TRUE(std::holds_alternative<state::UnknownExpression>(decode(rule.get()).matches.at(0)));
}

TEST(NftCodec, CommentIsNftsUserdataComment) {
  state::Rule rule = with_matches({}, state::Action::Kind::accept);
  rule.comment = "forward from cluster";
  const NftnlRule encoded = encode_rule(Family::ipv4, "t", "c", rule);
  std::uint32_t length = 0;
  const auto* data = static_cast<const std::uint8_t*>(
      nftnl_rule_get_data(encoded.get(), NFTNL_RULE_USERDATA, &length));
  // What nft --debug=netlink prints for it: userdata = { \x00\x15forward from cluster\x00 }
  ASSERT_EQ(length, 2u + rule.comment.size() + 1u);
  EXPECT_EQ(data[0], NFTNL_UDATA_RULE_COMMENT);
  EXPECT_EQ(data[1], rule.comment.size() + 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data + 2)), rule.comment);
}

TEST(NftCodec, UnencodableRulesAreRejected) {
  const state::Rule foreign =
      with_matches({state::UnknownExpression{"log"}}, state::Action::Kind::accept);
  EXPECT_THROW(encode_rule(Family::ipv4, "t", "c", foreign), std::invalid_argument);
  const state::Rule wrong_family =
      with_matches({state::AddressMatch{state::AddressField::saddr, false, cidr("fd00::/8")}},
                   state::Action::Kind::accept);
  EXPECT_THROW(encode_rule(Family::ipv4, "t", "c", wrong_family), std::invalid_argument);
  state::Rule long_comment = with_matches({}, state::Action::Kind::accept);
  long_comment.comment = std::string(200, 'x');
  EXPECT_THROW(encode_rule(Family::ipv4, "t", "c", long_comment), std::invalid_argument);
}

// A rule with an expression libnftnl does not know (newer kernel) still decodes: handle,
// comment and a visible unknown, so the reconciler can delete it.
TEST(NftCodec, RuleLibnftnlCannotParseDecodesAsUnknownWithHandle) {
  state::Rule rule = with_matches({}, state::Action::Kind::accept);
  const NftnlRule encoded = encode_rule(Family::ipv4, "flannel-nftd-ipv4", "forward", rule);
  nftnl_rule_set_u64(encoded.get(), NFTNL_RULE_HANDLE, 42);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
  build_rule_payload(nlh, encoded.get());
  // Rename the first expression ("counter") to something libnftnl has never heard of.
  char* name = static_cast<char*>(memmem(buffer.data(), nlh->nlmsg_len, "counter", 8));
  ASSERT_NE(name, nullptr);
  std::memcpy(name, "frobnic", 8);

  const DecodedRule decoded = decode_rule_message(nlh);
  EXPECT_EQ(decoded.table, "flannel-nftd-ipv4");
  EXPECT_EQ(decoded.chain, "forward");
  EXPECT_EQ(decoded.rule.handle, 42u);
  EXPECT_EQ(decoded.rule.comment, "test rule");
  EXPECT_EQ(
      text(decoded.rule, Family::ipv4),
      "<unknown: expressions libnftnl cannot parse: frobnic, immediate> comment \"test rule\"");
}

TEST(NftCodec, RuleMessageDecodesLikeTheObject) {
  const state::Rule rule =
      with_matches({state::MarkMatch{0x4000, 0x4000}}, state::Action::Kind::return_);
  const NftnlRule encoded = encode_rule(Family::ipv6, "flannel-nftd-ipv6", "postrtg", rule);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV6, 0, 1);
  build_rule_payload(nlh, encoded.get());
  const DecodedRule decoded = decode_rule_message(nlh);
  EXPECT_EQ(decoded.family, Family::ipv6);
  EXPECT_EQ(decoded.rule, rule);
}

TEST(NftAttrNames, NamesNestedAttributesByOffset) {
  const state::Rule rule =
      with_matches({state::AddressMatch{state::AddressField::saddr, false, cidr("10.244.0.0/16")}},
                   state::Action::Kind::accept);
  const NftnlRule encoded = encode_rule(Family::ipv4, "flannel-nftd-ipv4", "forward", rule);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
  nftnl_rule_nlmsg_build_payload(nlh, encoded.get());

  // Find the offsets the kernel would report by walking the message ourselves.
  std::uint32_t chain_offset = 0, cmp_data_offset = 0;
  const char* base = reinterpret_cast<const char*>(nlh);
  auto offset_of = [base](const nlattr* attr) {
    return static_cast<std::uint32_t>(reinterpret_cast<const char*>(attr) - base);
  };
  for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NFTA_RULE_CHAIN) chain_offset = offset_of(attr);
    if (mnl_attr_get_type(attr) != NFTA_RULE_EXPRESSIONS) return;
    int index = 0;
    for_each_nested(attr, [&](const nlattr* element) {
      if (++index != 2) return;  // payload, cmp, ...
      for_each_nested(element, [&](const nlattr* part) {
        if (mnl_attr_get_type(part) != NFTA_EXPR_DATA) return;
        for_each_nested(part, [&](const nlattr* field) {
          if (mnl_attr_get_type(field) == NFTA_CMP_DATA) cmp_data_offset = offset_of(field);
        });
      });
    });
  });
  ASSERT_NE(chain_offset, 0u);
  ASSERT_NE(cmp_data_offset, 0u);
  EXPECT_EQ(attribute_path_at(nlh, chain_offset), "NFTA_RULE_CHAIN");
  EXPECT_EQ(attribute_path_at(nlh, cmp_data_offset),
            "NFTA_RULE_EXPRESSIONS > NFTA_LIST_ELEM #2 (cmp) > NFTA_EXPR_DATA > NFTA_CMP_DATA");

  AckInfo ack;
  ack.error = ENOENT;
  ack.message = "chain not found";
  ack.bad_attribute_offset = chain_offset;
  EXPECT_EQ(describe_ack_details(ack, nlh), "chain not found; offending attribute NFTA_RULE_CHAIN");
}

TEST(NftAttrNames, NamesTheFlowtableDeviceAnExtendedAckPointsAt) {
  state::Flowtable flowtable;
  flowtable.name = "fastpath";
  flowtable.devices = {"cni0", "veth1a2b", "uplink"};
  const NftnlFlowtable encoded = encode_flowtable(Family::ipv4, "flannel-nftd-ipv4", flowtable);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWFLOWTABLE, NFPROTO_IPV4, 0, 1);
  nftnl_flowtable_nlmsg_build_payload(nlh, encoded.get());

  // Where a kernel from 6.3 on points NLMSGERR_ATTR_OFFS when a device is gone.
  std::vector<std::uint32_t> device_offsets;
  std::uint32_t name_offset = 0;
  const char* base = reinterpret_cast<const char*>(nlh);
  for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NFTA_FLOWTABLE_NAME) {
      name_offset = static_cast<std::uint32_t>(reinterpret_cast<const char*>(attr) - base);
    }
    if (mnl_attr_get_type(attr) != NFTA_FLOWTABLE_HOOK) return;
    for_each_nested(attr, [&](const nlattr* hook) {
      if (mnl_attr_get_type(hook) != NFTA_FLOWTABLE_HOOK_DEVS) return;
      for_each_nested(hook, [&](const nlattr* device) {
        device_offsets.push_back(
            static_cast<std::uint32_t>(reinterpret_cast<const char*>(device) - base));
      });
    });
  });
  ASSERT_EQ(device_offsets.size(), 3u);
  EXPECT_EQ(device_name_at(nlh, device_offsets[0]), "cni0");
  EXPECT_EQ(device_name_at(nlh, device_offsets[1]), "veth1a2b");
  EXPECT_EQ(device_name_at(nlh, device_offsets[2]), "uplink");
  // Anything else is no device: the name attribute, a byte inside a device attribute, past
  // the end.
  EXPECT_EQ(device_name_at(nlh, name_offset), std::nullopt);
  EXPECT_EQ(device_name_at(nlh, device_offsets[1] + 4), std::nullopt);
  EXPECT_EQ(device_name_at(nlh, nlh->nlmsg_len + 16), std::nullopt);
}

// Userdata is a run of (type, length, value) TLVs; one whose length runs past the end is
// not read (nftnl_udata_parse() would hand it over regardless).
TEST(NftCodec, ACommentWhoseLengthRunsPastTheUserdataIsNotRead) {
  for (const std::vector<unsigned char>& userdata :
       {std::vector<unsigned char>{0, 200, 'a', 0}, std::vector<unsigned char>{0},
        std::vector<unsigned char>{1, 1, 'x', 0, 40}}) {
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
    mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "flannel-nftd-ipv4");
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "forward");
    mnl_attr_put(nlh, NFTA_RULE_USERDATA, userdata.size(), userdata.data());
    EXPECT_EQ(decode_rule_message(nlh).rule.comment, "");
  }
}

}  // namespace
}  // namespace fnft::netlink
