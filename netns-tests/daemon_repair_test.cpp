// `flannel-nftd run` undoes what the real `nft` tool does to its tables: each test makes one
// change, waits for the daemon's "repaired after nft (pid N): ..." line naming it, and then
// checks that the kernel holds exactly what `dump` says and that a pod's traffic to the
// outside is still masqueraded. IPv4 on an IPv4 node, and IPv6 on a dual-stack node.
#include <gmock/gmock.h>

#include <algorithm>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

class DaemonRepairTest : public DaemonParamTest<MutatedFamily> {
 protected:
  void SetUp() override {
    DaemonParamTest<MutatedFamily>::SetUp();
    if (IsSkipped()) return;
    make_daemon_node(GetParam().stack);
    start_daemon();
  }

  const Addresses& a() const { return addresses(GetParam().family); }
  // "ip flannel-nftd-ipv4" / "ip6 flannel-nftd-ipv6", as nft commands and the daemon's log name
  // them.
  std::string table() const { return a().nft_family + " " + a().table; }

  // The daemon logged a repair of `what` by `nft`, the kernel holds the dump again, and the
  // pod's egress is masqueraded.
  void expect_repaired(const std::string& what) {
    ASSERT_TRUE(repair_logged("after nft (pid ")) << "expected: " << what;
    EXPECT_TRUE(repair_logged(what));
    EXPECT_TRUE(tables_become_desired());
    EXPECT_TRUE(pod_egress_is_masqueraded());
  }
};

TEST_P(DaemonRepairTest, RepairsADeletedRule) {
  const auto before = rule_handles(GetParam().family);
  const auto handle = rule_handle(GetParam().family, "cluster to outside: masquerade");
  nft({"delete", "rule", a().nft_family, a().table, "postrtg", "handle", std::to_string(handle)});
  expect_repaired("delrule " + table() + " postrtg");
  // Planned from the deletion's own events, and put back in its place: every other rule is
  // the very same object (same handle, counters kept), nothing was flushed.
  EXPECT_THAT(daemon().log(),
              testing::HasSubstr("planned from what the events say the kernel holds"))
      << report();
  auto after = rule_handles(GetParam().family);
  for (const auto& [comment, kept] : before) {
    if (kept == handle) continue;
    EXPECT_NE(std::find(after.begin(), after.end(), std::pair{comment, kept}), after.end())
        << comment << " (handle " << kept << ") was replaced\n"
        << report();
  }
}

TEST_P(DaemonRepairTest, RepairsAFlushedChain) {
  nft({"flush", "chain", a().nft_family, a().table, "postrtg"});
  expect_repaired("delrule " + table() + " postrtg");
}

TEST_P(DaemonRepairTest, RepairsADeletedChain) {
  nft({"delete", "chain", a().nft_family, a().table, "forward"});
  expect_repaired("delchain " + table() + " forward");
}

TEST_P(DaemonRepairTest, RepairsADeletedTable) {
  nft({"delete", "table", a().nft_family, a().table});
  // The log names the first kinds of change (the table's rules and chains) and counts the rest.
  expect_repaired(table());
  EXPECT_THAT(daemon().log(),
              testing::HasSubstr("planned from what the events say the kernel holds"))
      << report();
}

TEST_P(DaemonRepairTest, RepairsNftFlushRuleset) {
  nft({"flush", "ruleset"});
  expect_repaired("after nft (pid ");
}

TEST_P(DaemonRepairTest, RemovesAForeignRuleInsertedIntoOurChain) {
  const auto before = rule_handles(GetParam().family);
  ASSERT_EQ(before.size(), 8U) << report();
  // A drop for pod 1's traffic at the top of our forward chain: until it is gone, pod 1
  // reaches nothing through the node.
  nft({"insert", "rule", a().nft_family, a().table, "forward", a().nft_family, "saddr", a().pods[0],
       "counter", "drop", "comment", "\"foreign drop\""});
  expect_repaired("addrule " + table() + " forward");
  // Deleted by handle: our rules are the very same objects (same handles, so counters kept).
  EXPECT_EQ(rule_handles(GetParam().family), before) << report();
}

TEST_P(DaemonRepairTest, RestoresAChangedChainPolicy) {
  nft({"chain", a().nft_family, a().table, "forward", "{ policy drop; }"});
  expect_repaired("addchain " + table() + " forward");
}

TEST_P(DaemonRepairTest, RestoresAChangedChainPriority) {
  // One transaction: the chain is gone and back with another priority, rules and all.
  nft({"-f", "-"}, "delete chain " + table() + " postrtg\n" + "add chain " + table() +
                       " postrtg { type nat hook postrouting " +
                       "priority srcnat + 10; policy accept; }\n");
  expect_repaired("addchain " + table() + " postrtg");
}

TEST_P(DaemonRepairTest, RepairsAReplacedRule) {
  const auto handle = rule_handle(GetParam().family, "forward from cluster");
  // Same comment, opposite verdict: only the expressions tell it apart.
  nft({"replace", "rule", a().nft_family, a().table, "forward", "handle", std::to_string(handle),
       a().nft_family, "saddr", a().cluster, "counter", "drop", "comment",
       "\"forward from cluster\""});
  expect_repaired("addrule " + table() + " forward");
}

TEST_P(DaemonRepairTest, RemovesDuplicatedRules) {
  const std::string f = a().nft_family;
  nft({"-f", "-"}, "add rule " + table() + " forward " + f + " saddr " + a().cluster +
                       " counter accept comment \"forward from cluster\"\n" + "insert rule " +
                       table() + " postrtg " + f + " saddr " + a().lease + " " + f + " daddr " +
                       a().cluster +
                       " counter return comment \"pod subnet to cluster: no masquerade\"\n");
  expect_repaired("addrule " + table());
  EXPECT_EQ(rule_handles(GetParam().family).size(), 8U) << report();
}

TEST_P(DaemonRepairTest, RestoresATableMadeDormant) {
  // A dormant table's base chains see no packet: every rule is still listed, none applies.
  nft({"add", "table", a().nft_family, a().table, "{ flags dormant; }"});
  expect_repaired("addtable " + table());
}

TEST_P(DaemonRepairTest, RemovesForeignObjectsFromOurTable) {
  const std::string f = a().nft_family;
  nft({"-f", "-"}, "add set " + table() + " foreign-set { type " +
                       (f == "ip" ? "ipv4_addr" : "ipv6_addr") + "; }\n" + "add element " +
                       table() + " foreign-set { " + a().pods[0] + " }\n" + "add chain " + table() +
                       " foreign-chain\n" + "add rule " + table() + " foreign-chain " + f +
                       " saddr @foreign-set drop\n" + "insert rule " + table() +
                       " forward jump foreign-chain\n");
  expect_repaired("addset " + table());
  EXPECT_THAT(nft({"list", "table", f, a().table}).out, testing::Not(testing::HasSubstr("foreign")))
      << report();
}

INSTANTIATE_TEST_SUITE_P(Families, DaemonRepairTest, kMutatedFamilies, mutated_family_name);

}  // namespace
}  // namespace fnft::netns_test
