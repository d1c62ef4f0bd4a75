// Transactions are assembled from nf_tables events as the kernel sends them: object
// messages, then NEWGEN naming the committer.
#include "netlink/nft_event.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <vector>

#include "netlink/detail/nft_codec.hpp"

namespace fnft::netlink {
namespace {

class EventBuilder {
 public:
  EventBuilder(std::uint16_t type, std::uint8_t family, std::uint32_t portid)
      : buffer_(MNL_SOCKET_BUFFER_SIZE) {
    message_ = mnl_nlmsg_put_header(buffer_.data());
    message_->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type);
    message_->nlmsg_pid = portid;
    auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message_, sizeof(nfgenmsg)));
    header->nfgen_family = family;
    header->version = NFNETLINK_V0;
  }
  EventBuilder& str(std::uint16_t attribute, const char* value) {
    mnl_attr_put_strz(message_, attribute, value);
    return *this;
  }
  EventBuilder& u32(std::uint16_t attribute, std::uint32_t value) {
    mnl_attr_put_u32(message_, attribute, htonl(value));
    return *this;
  }
  EventBuilder& u64(std::uint16_t attribute, std::uint64_t value) {
    mnl_attr_put_u64(message_, attribute, htobe64(value));
    return *this;
  }
  const nlmsghdr* get() const { return message_; }

 private:
  std::vector<char> buffer_;
  nlmsghdr* message_;
};

NftEventAssembler assembler() {
  return NftEventAssembler({{state::Family::ipv4, "flannel-nftd-ipv4", {}},
                            {state::Family::ipv6, "flannel-nftd-ipv6", {}}});
}

EventBuilder newgen(std::uint32_t portid) {
  EventBuilder gen(NFT_MSG_NEWGEN, AF_UNSPEC, portid);
  gen.u32(NFTA_GEN_ID, 42).u32(NFTA_GEN_PROC_PID, 4242).str(NFTA_GEN_PROC_NAME, "nft");
  return gen;
}

TEST(NftEventAssembler, RuleDeletionInOurChainCompletesAtNewgenWithTheCommitter) {
  auto events = assembler();
  EventBuilder del(NFT_MSG_DELRULE, NFPROTO_IPV4, 77);
  del.str(NFTA_RULE_TABLE, "flannel-nftd-ipv4").str(NFTA_RULE_CHAIN, "postrtg");
  EXPECT_FALSE(events.feed(del.get()));
  const auto done = events.feed(newgen(77).get());
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->touched_owned);
  EXPECT_EQ(done->generation, 42u);
  EXPECT_EQ(done->pid, 4242u);
  EXPECT_EQ(done->process_name, "nft");
  EXPECT_EQ(done->portid, 77u);
  ASSERT_EQ(done->touched.size(), 1u);
  EXPECT_EQ(done->touched[0], "delrule ip flannel-nftd-ipv4 postrtg");
  ASSERT_EQ(done->touched_tables.size(), 1u);
  EXPECT_EQ(done->touched_tables[0].family, state::Family::ipv4);
  EXPECT_EQ(done->touched_tables[0].name, "flannel-nftd-ipv4");
}

TEST(NftEventAssembler, ATransactionThatOnlyDeletedNamesEachDeletionInOrder) {
  auto events = assembler();
  EventBuilder rule(NFT_MSG_DELRULE, NFPROTO_IPV4, 77);
  rule.str(NFTA_RULE_TABLE, "flannel-nftd-ipv4")
      .str(NFTA_RULE_CHAIN, "forward")
      .u64(NFTA_RULE_HANDLE, 9);
  EventBuilder chain(NFT_MSG_DELCHAIN, NFPROTO_IPV4, 77);
  chain.str(NFTA_CHAIN_TABLE, "flannel-nftd-ipv4").str(NFTA_CHAIN_NAME, "forward");
  EventBuilder table(NFT_MSG_DELTABLE, NFPROTO_IPV4, 77);
  table.str(NFTA_TABLE_NAME, "flannel-nftd-ipv4");
  for (const auto* message : {rule.get(), chain.get(), table.get()}) events.feed(message);
  const auto done = events.feed(newgen(77).get());
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->only_deletions);
  using Kind = state::Deletion::Kind;
  EXPECT_EQ(done->deletions,
            (std::vector<state::Deletion>{
                {Kind::rule, state::Family::ipv4, "flannel-nftd-ipv4", "forward", 9},
                {Kind::chain, state::Family::ipv4, "flannel-nftd-ipv4", "forward", 0},
                {Kind::table, state::Family::ipv4, "flannel-nftd-ipv4", "", 0}}));
}

TEST(NftEventAssembler, AnAdditionToOursMeansTheDeletionsAreNotTheWholeStory) {
  auto events = assembler();
  EventBuilder del(NFT_MSG_DELRULE, NFPROTO_IPV4, 77);
  del.str(NFTA_RULE_TABLE, "flannel-nftd-ipv4")
      .str(NFTA_RULE_CHAIN, "forward")
      .u64(NFTA_RULE_HANDLE, 9);
  EventBuilder add(NFT_MSG_NEWRULE, NFPROTO_IPV4, 77);
  add.str(NFTA_RULE_TABLE, "flannel-nftd-ipv4").str(NFTA_RULE_CHAIN, "forward");
  events.feed(del.get());
  events.feed(add.get());
  const auto done = events.feed(newgen(77).get());
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->only_deletions);
  // Another table's additions say nothing about ours.
  EventBuilder theirs(NFT_MSG_NEWRULE, NFPROTO_IPV4, 78);
  theirs.str(NFTA_RULE_TABLE, "kube-proxy").str(NFTA_RULE_CHAIN, "services");
  events.feed(del.get());
  events.feed(theirs.get());
  EXPECT_TRUE(events.feed(newgen(78).get())->only_deletions);
}

TEST(NftEventAssembler, OtherTablesAndOtherFamiliesAreNotOurs) {
  auto events = assembler();
  EventBuilder other(NFT_MSG_NEWRULE, NFPROTO_IPV4, 5);
  other.str(NFTA_RULE_TABLE, "kube-proxy").str(NFTA_RULE_CHAIN, "services");
  EventBuilder same_name_inet(NFT_MSG_DELTABLE, NFPROTO_INET, 5);
  same_name_inet.str(NFTA_TABLE_NAME, "flannel-nftd-ipv4");
  events.feed(other.get());
  events.feed(same_name_inet.get());
  const auto done = events.feed(newgen(5).get());
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->touched_owned);
  EXPECT_EQ(done->message_count, 2u);
}

TEST(NftEventAssembler, EachNewgenStartsAFreshTransaction) {
  auto events = assembler();
  EventBuilder del(NFT_MSG_DELTABLE, NFPROTO_IPV6, 9);
  del.str(NFTA_TABLE_NAME, "flannel-nftd-ipv6");
  events.feed(del.get());
  ASSERT_TRUE(events.feed(newgen(9).get())->touched_owned);
  const auto next = events.feed(newgen(9).get());
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->touched_owned);
  EXPECT_EQ(next->message_count, 0u);
}

TEST(NftEventAssembler, UnknownMessageTypeIsTreatedAsPossiblyOurs) {
  auto events = assembler();
  EventBuilder future(NFT_MSG_MAX + 3, NFPROTO_IPV4, 9);
  events.feed(future.get());
  const auto done = events.feed(newgen(9).get());
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->touched_owned);
  EXPECT_TRUE(done->touched_tables.empty()) << "unknown events must not narrow the repair";
}

// iptables-nft keeps our chains in `table ip nat` beside kube-proxy's: only ours, the chain
// that jumps to them, and the table itself count.
TEST(NftEventAssembler, InAWatchedTableOnlyTheWatchedChainsAndTheTableCount) {
  NftEventAssembler events({{state::Family::ipv4, "nat", {"POSTROUTING", "FLANNEL-POSTRTG"}}});
  EventBuilder kube(NFT_MSG_NEWRULE, NFPROTO_IPV4, 5);
  kube.str(NFTA_RULE_TABLE, "nat").str(NFTA_RULE_CHAIN, "KUBE-SERVICES");
  EventBuilder set(NFT_MSG_NEWSET, NFPROTO_IPV4, 5);
  set.str(NFTA_SET_TABLE, "nat").str(NFTA_SET_NAME, "s");
  events.feed(kube.get());
  events.feed(set.get());
  EXPECT_FALSE(events.feed(newgen(5).get())->touched_owned);

  EventBuilder jump(NFT_MSG_DELRULE, NFPROTO_IPV4, 5);
  jump.str(NFTA_RULE_TABLE, "nat").str(NFTA_RULE_CHAIN, "POSTROUTING");
  events.feed(jump.get());
  const auto done = events.feed(newgen(5).get());
  ASSERT_TRUE(done->touched_owned);
  EXPECT_EQ(done->touched, std::vector<std::string>{"delrule ip nat POSTROUTING"});

  EventBuilder flushed(NFT_MSG_DELTABLE, NFPROTO_IPV4, 5);
  flushed.str(NFTA_TABLE_NAME, "nat");
  events.feed(flushed.get());
  EXPECT_TRUE(events.feed(newgen(5).get())->touched_owned);
}

// A jump into our chain from a chain we do not watch changes what enters ours.
TEST(NftEventAssembler, ARuleJumpingIntoAWatchedChainFromElsewhereCounts) {
  NftEventAssembler events({{state::Family::ipv4, "filter", {"FORWARD", "FLANNEL-FWD"}}});
  state::Rule jump;
  jump.action = state::Action{state::Action::Kind::jump, false, "FLANNEL-FWD"};
  const NftnlRule rule = encode_rule(state::Family::ipv4, "filter", "INPUT", jump);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 0);
  message->nlmsg_pid = 5;
  build_rule_payload(message, rule.get());
  events.feed(message);
  const auto done = events.feed(newgen(5).get());
  ASSERT_TRUE(done->touched_owned);
  EXPECT_EQ(done->touched, std::vector<std::string>{"addrule ip filter INPUT"});

  state::Rule other_jump;
  other_jump.action = state::Action{state::Action::Kind::jump, false, "KUBE-FORWARD"};
  const NftnlRule unrelated = encode_rule(state::Family::ipv4, "filter", "INPUT", other_jump);
  nlmsghdr* second = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 0);
  build_rule_payload(second, unrelated.get());
  events.feed(second);
  EXPECT_FALSE(events.feed(newgen(5).get())->touched_owned);
}

TEST(NftEventAssembler, ResetDropsAHalfAssembledTransaction) {
  auto events = assembler();
  EventBuilder del(NFT_MSG_DELCHAIN, NFPROTO_IPV4, 9);
  del.str(NFTA_CHAIN_TABLE, "flannel-nftd-ipv4").str(NFTA_CHAIN_NAME, "forward");
  events.feed(del.get());
  events.reset();
  EXPECT_FALSE(events.feed(newgen(9).get())->touched_owned);
}

}  // namespace
}  // namespace fnft::netlink
