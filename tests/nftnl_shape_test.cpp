#include "netlink/detail/nftnl_shape.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/detail/nft_codec.hpp"
#include "state/config_parse.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::netlink {
namespace {

// Messages written attribute by attribute, as a broken or hostile sender could write them.
class Message {
 public:
  explicit Message(std::uint16_t nft_type) {
    nlh_ = nftnl_nlmsg_build_hdr(buffer_.data(), nft_type, NFPROTO_IPV4, 0, 1);
  }
  nlmsghdr* nlh() { return nlh_; }
  const nlmsghdr* get() const { return nlh_; }

 private:
  std::vector<char> buffer_ = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh_;
};

void put_expression(nlmsghdr* nlh, const char* kind, auto&& data) {
  nlattr* element = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  if (kind != nullptr) mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, kind);
  nlattr* nest = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
  data(nlh);
  mnl_attr_nest_end(nlh, nest);
  mnl_attr_nest_end(nlh, element);
}

Message rule_with(const char* kind, auto&& data) {
  Message message(NFT_MSG_NEWRULE);
  mnl_attr_put_strz(message.nlh(), NFTA_RULE_TABLE, "flannel-nftd-ipv4");
  mnl_attr_put_strz(message.nlh(), NFTA_RULE_CHAIN, "forward");
  nlattr* list = mnl_attr_nest_start(message.nlh(), NFTA_RULE_EXPRESSIONS);
  put_expression(message.nlh(), kind, data);
  mnl_attr_nest_end(message.nlh(), list);
  return message;
}

TEST(NftnlShape, AcceptsEveryRuleWeWrite) {
  const state::SubnetEnv lease = state::parse_subnet_env(
      "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n", "subnet.env");
  const state::Ruleset ruleset = state::desired_nft_ruleset(
      state::resolve_node_config(lease, "subnet.env", std::nullopt, "", {}),
      state::FastPath{.devices = {"cni0"}});
  for (const auto& table : ruleset.tables) {
    for (const auto& chain : table.chains) {
      for (const auto& rule : chain.rules) {
        Message message(NFT_MSG_NEWRULE);
        build_rule_payload(message.nlh(),
                           encode_rule(table.family, table.name, chain.name, rule).get());
        EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::accepted) << chain.name;
      }
    }
  }
}

TEST(NftnlShape, RefusesACounterOfTheWrongSize) {
  // libnftnl would print "nf_tables kernel ABI is broken" and exit.
  const Message message =
      rule_with("counter", [](nlmsghdr* nlh) { mnl_attr_put_u32(nlh, NFTA_COUNTER_PACKETS, 1); });
  EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::refused);
}

TEST(NftnlShape, RefusesAnExpressionWithoutAName) {
  // libnftnl 1.2.4 would pass a null name to strcmp.
  const Message message =
      rule_with(nullptr, [](nlmsghdr* nlh) { mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, 1); });
  EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::refused);
}

TEST(NftnlShape, RefusesAVerdictChainWithoutItsNul) {
  const Message message = rule_with("immediate", [](nlmsghdr* nlh) {
    mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
    nlattr* data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
    nlattr* verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
    mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(static_cast<std::uint32_t>(NFT_JUMP)));
    mnl_attr_put(nlh, NFTA_VERDICT_CHAIN, 4, "abcd");
    mnl_attr_nest_end(nlh, verdict);
    mnl_attr_nest_end(nlh, data);
  });
  EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::refused);
}

// libnftnl 1.2.4 reads both from an uninitialised array when they are missing.
TEST(NftnlShape, RefusesAVerdictWithoutItsCodeOrAJumpWithoutItsChain) {
  for (const bool with_code : {false, true}) {
    const Message message = rule_with("immediate", [with_code](nlmsghdr* nlh) {
      mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
      nlattr* data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
      nlattr* verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
      if (with_code)
        mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(static_cast<std::uint32_t>(NFT_JUMP)));
      mnl_attr_nest_end(nlh, verdict);
      mnl_attr_nest_end(nlh, data);
    });
    EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::refused) << with_code;
  }
}

TEST(NftnlShape, LeavesKindsItDoesNotKnowUnchecked) {
  const Message message =
      rule_with("log", [](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_LOG_PREFIX, "x"); });
  EXPECT_EQ(nftnl_shape_of(message.get()), NftnlShape::unchecked);
}

TEST(NftnlShape, ARefusedRuleIsStillDecodedByHandleWithoutLibnftnl) {
  Message message =
      rule_with("counter", [](nlmsghdr* nlh) { mnl_attr_put_u32(nlh, NFTA_COUNTER_BYTES, 1); });
  mnl_attr_put_u64(message.nlh(), NFTA_RULE_HANDLE, htobe64(42));
  const DecodedRule decoded = decode_rule_message(message.get());
  EXPECT_EQ(decoded.chain, "forward");
  EXPECT_EQ(decoded.rule.handle, 42u);
}

TEST(NftnlShape, RefusesATableNameWithoutItsNulAndAFlagsOfTheWrongSize) {
  Message unterminated(NFT_MSG_NEWTABLE);
  mnl_attr_put(unterminated.nlh(), NFTA_TABLE_NAME, 3, "abc");
  EXPECT_EQ(nftnl_shape_of(unterminated.get()), NftnlShape::refused);
  Message flags(NFT_MSG_NEWTABLE);
  mnl_attr_put_strz(flags.nlh(), NFTA_TABLE_NAME, "t");
  mnl_attr_put_u64(flags.nlh(), NFTA_TABLE_FLAGS, 1);
  EXPECT_EQ(nftnl_shape_of(flags.get()), NftnlShape::refused);
  Message good(NFT_MSG_NEWTABLE);
  nftnl_table_nlmsg_build_payload(good.nlh(),
                                  encode_table(state::Family::ipv4, "flannel-nftd-ipv4").get());
  EXPECT_EQ(nftnl_shape_of(good.get()), NftnlShape::accepted);
}

}  // namespace
}  // namespace fnft::netlink
