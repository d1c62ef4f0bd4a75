// Which conntrack entries a repair resets, rule by rule of the desired postrouting chain: only
// what the rules in force would have masqueraded, never what they leave alone.
#include "state/conntrack_repair.hpp"

#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"

namespace fnft::state {
namespace {

NodeConfig dual_stack(RuleOptions options = {}) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  config.ipv6 = FamilyNetworks{*parse_cidr("fd00:10:244::/56"), *parse_cidr("fd00:10:244:1::/64")};
  config.options = options;
  return config;
}

// The first packet of a connection from `source` to `destination` (as postrouting saw it),
// never answered and never NATed.
ConntrackEntry entry(const std::string& source, const std::string& destination) {
  const Cidr from = *parse_cidr(source + (source.find(':') == std::string::npos ? "/32" : "/128"));
  const Cidr to =
      *parse_cidr(destination + (destination.find(':') == std::string::npos ? "/32" : "/128"));
  ConntrackEntry e;
  e.family = from.family;
  e.source = from.address;
  e.destination = to.address;
  return e;
}

class ConntrackRepair : public testing::Test {
 protected:
  Ruleset tables = desired_nft_ruleset(dual_stack());
};

TEST_F(ConntrackRepair, PodToOutsideWithoutSourceNatIsReset) {
  EXPECT_EQ(postrouting_verdict(tables, entry("10.244.1.2", "192.0.2.2")),
            PostroutingVerdict::masquerade);
  EXPECT_TRUE(missed_masquerade(tables, entry("10.244.1.2", "192.0.2.2")));
  EXPECT_TRUE(missed_masquerade(tables, entry("fd00:10:244:1::2", "2001:db8:1::2")));
}

TEST_F(ConntrackRepair, ARemoteNodesPodToOutsideIsResetToo) {
  // "cluster to outside": any source in the cluster network, forwarded through this node.
  EXPECT_TRUE(missed_masquerade(tables, entry("10.244.2.7", "192.0.2.2")));
}

TEST_F(ConntrackRepair, HostToClusterWithoutSourceNatIsReset) {
  EXPECT_TRUE(missed_masquerade(tables, entry("192.0.2.1", "10.244.2.1")));
  EXPECT_TRUE(missed_masquerade(tables, entry("2001:db8:2::1", "fd00:10:244:2::1")));
}

TEST_F(ConntrackRepair, PodToPodAndPodToRemotePodAreLeftAlone) {
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.1.2", "10.244.1.3")));
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.1.2", "10.244.2.1")));
  EXPECT_FALSE(missed_masquerade(tables, entry("fd00:10:244:1::2", "fd00:10:244:2::1")));
}

TEST_F(ConntrackRepair, ClusterAndOutsideToOurPodsAreLeftAlone) {
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.2.1", "10.244.1.2")));
  EXPECT_FALSE(missed_masquerade(tables, entry("192.0.2.2", "10.244.1.2")));
}

TEST_F(ConntrackRepair, MulticastFromPodsIsLeftAlone) {
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.1.2", "224.0.0.251")));
  EXPECT_FALSE(missed_masquerade(tables, entry("fd00:10:244:1::2", "ff02::fb")));
}

TEST_F(ConntrackRepair, KubeProxyMarkedConnectionsAreLeftAlone) {
  ConntrackEntry marked = entry("10.244.1.2", "192.0.2.2");
  marked.mark = kKubeProxyMasqueradeMark | 0x1;
  EXPECT_EQ(postrouting_verdict(tables, marked), PostroutingVerdict::left_alone);
  EXPECT_FALSE(missed_masquerade(tables, marked));
}

TEST_F(ConntrackRepair, AServicesDnatIsKubeProxysToMasquerade) {
  ConntrackEntry service = entry("10.244.1.2", "192.0.2.2");
  service.destination_nat = true;
  EXPECT_FALSE(missed_masquerade(tables, service));
}

TEST_F(ConntrackRepair, MasqueradedOrAnsweredConnectionsAreLeftAlone) {
  ConntrackEntry masqueraded = entry("10.244.1.2", "192.0.2.2");
  masqueraded.source_nat = true;
  EXPECT_FALSE(missed_masquerade(tables, masqueraded));
  ConntrackEntry answered = entry("10.244.1.2", "192.0.2.2");
  answered.seen_reply = true;  // a routable pod network: it works, and a reset would break it
  EXPECT_FALSE(missed_masquerade(tables, answered));
}

TEST_F(ConntrackRepair, TrafficOfOtherSubnetsIsLeftAlone) {
  EXPECT_FALSE(missed_masquerade(tables, entry("192.168.5.5", "192.0.2.2")));
  EXPECT_FALSE(missed_masquerade(tables, entry("2001:db8:9::5", "2001:db8:1::2")));
}

TEST(ConntrackRepairOptions, WithoutIpMasqNothingIsReset) {
  RuleOptions options;
  options.ip_masq = false;
  const Ruleset tables = desired_nft_ruleset(dual_stack(options));
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.1.2", "192.0.2.2")));
  EXPECT_FALSE(missed_masquerade(tables, entry("192.0.2.1", "10.244.2.1")));
}

TEST(ConntrackRepairOptions, AFamilyWithoutRulesIsLeftAlone) {
  NodeConfig config = dual_stack();
  config.ipv6.reset();
  const Ruleset tables = desired_nft_ruleset(config);
  EXPECT_TRUE(missed_masquerade(tables, entry("10.244.1.2", "192.0.2.2")));
  EXPECT_FALSE(missed_masquerade(tables, entry("fd00:10:244:1::2", "2001:db8:1::2")));
}

TEST(ConntrackRepairOptions, ARuleItCannotJudgeStopsTheEvaluation) {
  Ruleset tables = desired_nft_ruleset(dual_stack());
  for (auto& table : tables.tables) {
    for (auto& chain : table.chains) {
      if (chain.name != kPostroutingChainName) continue;
      chain.rules.insert(chain.rules.begin(),
                         Rule{{UnknownExpression{"meta skuid 0"}}, false, {}, "foreign", 0, 0, 0});
    }
  }
  EXPECT_EQ(postrouting_verdict(tables, entry("10.244.1.2", "192.0.2.2")),
            PostroutingVerdict::unknown);
  EXPECT_FALSE(missed_masquerade(tables, entry("10.244.1.2", "192.0.2.2")));
}

}  // namespace
}  // namespace fnft::state

namespace fnft::state {
namespace {

// Which commits read the conntrack table: the real planner's operations from what another
// process left, judged against the desired ruleset.
class TouchesMasquerade : public testing::Test {
 protected:
  std::vector<NftOperation> plan_from(const Ruleset& observed) const {
    std::vector<OwnedTable> owned;
    for (const auto& table : desired.tables) owned.push_back({table.family, table.name});
    return plan_nft_changes(desired, observed, owned);
  }
  Chain& chain_of(Ruleset& tables, Hook hook) const {
    for (auto& chain : tables.tables.front().chains) {
      if (chain.base && chain.base->hook == hook) return chain;
    }
    throw std::logic_error("no such chain");
  }

  Ruleset desired = desired_nft_ruleset(dual_stack(), FastPath{{"cni0", "eth0"}, false});
};

TEST_F(TouchesMasquerade, AFlushedOrAlteredPostroutingChainDoes) {
  Ruleset flushed = desired;
  chain_of(flushed, Hook::postrouting).rules.clear();
  EXPECT_TRUE(touches_masquerade(plan_from(flushed), desired));
  Ruleset one_gone = desired;
  chain_of(one_gone, Hook::postrouting).rules.pop_back();
  EXPECT_TRUE(touches_masquerade(plan_from(one_gone), desired));
}

TEST_F(TouchesMasquerade, ADeletedTableDoes) {
  Ruleset deleted = desired;
  deleted.tables.erase(deleted.tables.begin());
  EXPECT_TRUE(touches_masquerade(plan_from(deleted), desired));
}

TEST_F(TouchesMasquerade, ForwardRulesAndFlowtableDevicesDoNot) {
  Ruleset forward_flushed = desired;
  chain_of(forward_flushed, Hook::forward).rules.clear();
  const auto forward_repair = plan_from(forward_flushed);
  ASSERT_FALSE(forward_repair.empty());
  EXPECT_FALSE(touches_masquerade(forward_repair, desired));

  // A pod came: its veth joins the flowtable.
  const Ruleset before_the_pod = desired;
  desired = desired_nft_ruleset(dual_stack(), FastPath{{"cni0", "eth0", "veth1"}, false});
  const auto new_device = plan_from(before_the_pod);
  ASSERT_FALSE(new_device.empty());
  EXPECT_FALSE(touches_masquerade(new_device, desired));
}

TEST_F(TouchesMasquerade, NothingCommittedTouchesNothing) {
  EXPECT_FALSE(touches_masquerade(plan_from(desired), desired));
}

}  // namespace
}  // namespace fnft::state
