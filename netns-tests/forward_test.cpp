// Forward accept with real packets.
//
// Why there are two kinds of test here: in iptables, flannel's FLANNEL-FWD rules live in the
// filter table's FORWARD chain itself, so their ACCEPT overrides that chain's DROP policy
// (the policy Docker sets). In nftables, an `accept` only ends the base chain it is in: every
// other base chain on the forward hook still sees the packet, and any of them can drop it.
// So the nftables mode's forward chain cannot rescue pod traffic from a foreign drop chain;
// what it can show is that it counted (accepted) the traffic. The iptables tests prove the
// rescue; the nftables tests prove the counting and document the limit.
#include <gmock/gmock.h>

#include <regex>

#include "netns-tests/netns_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kPort = 5100;
// How long a server waits for traffic that should be dropped: nothing arrives at all then.
constexpr auto kDroppedWait = 2s;

// Packets counted by the forward chain's rule `<family> <field> <cluster> counter ...`.
long forward_counter(const FlannelNode& node, const Addresses& a, const std::string& field) {
  const RunResult list =
      node.run_in(node.node(), {"nft", "list", "chain", a.nft_family, a.table, "forward"});
  const std::regex rule(a.nft_family + " " + field + " " + a.cluster +
                        R"( counter packets ([0-9]+) bytes)");
  std::smatch match;
  if (!list.ok() || !std::regex_search(list.out, match, rule)) return -1;
  return std::stol(match[1].str());
}

using IptablesForwardTest = NetnsParamTest<Stack>;

TEST_P(IptablesForwardTest, FlannelForwardChainLetsPodTrafficThroughDropPolicy) {
  const FlannelNode& node = make_node(GetParam());
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    const bool v4 = family == Family::ipv4;
    SCOPED_TRACE(to_string(family));
    node.run_in_checked(node.node(),
                        {v4 ? "iptables-nft" : "ip6tables-nft", "-P", "FORWARD", "DROP"});

    const SourceSeen before = source_seen_by_server(node, Protocol::udp, node.pod(0),
                                                    node.outside(), a.outside, kPort, kDroppedWait);
    ASSERT_EQ(before.source, std::nullopt)
        << "FORWARD's DROP policy should stop pod traffic before flannel's rules are loaded\n"
        << before.describe() << node.rules_report(true);

    // --noflush, as flanneld does: the node's FORWARD chain and its DROP policy stay.
    node.run_in_checked(node.node(),
                        {v4 ? "iptables-nft-restore" : "ip6tables-nft-restore", "--noflush"},
                        node.dump({"--mode=iptables", v4 ? "--family=ipv4" : "--family=ipv6"}));
    const RunResult filter = node.run_in_checked(
        node.node(), {v4 ? "iptables-nft-save" : "ip6tables-nft-save", "-t", "filter"});
    ASSERT_THAT(filter.out, testing::HasSubstr(":FORWARD DROP")) << filter.out;

    const SourceSeen after =
        source_seen_by_server(node, Protocol::udp, node.pod(0), node.outside(), a.outside, kPort);
    EXPECT_EQ(after.source, a.uplink_node) << after.describe() << node.rules_report(true);
  }
}

INSTANTIATE_TEST_SUITE_P(Stacks, IptablesForwardTest, kAllStacks, stack_name);

using NftablesForwardTest = NetnsParamTest<Stack>;

TEST_P(NftablesForwardTest, ForwardChainCountsPodTrafficBothWays) {
  const FlannelNode& node = make_node(GetParam());
  node.apply_rules();
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    SCOPED_TRACE(to_string(family));
    // connect-tcp completes a round trip: requests leave from the cluster, replies
    // (de-masqueraded before forwarding) go to it.
    const SourceSeen seen =
        source_seen_by_server(node, Protocol::tcp, node.pod(0), node.outside(), a.outside, kPort);
    ASSERT_TRUE(seen.client.ok()) << seen.describe() << node.rules_report();
    EXPECT_GT(forward_counter(node, a, "saddr"), 0) << node.rules_report();
    EXPECT_GT(forward_counter(node, a, "daddr"), 0) << node.rules_report();
  }
}

TEST_P(NftablesForwardTest, ForeignDropChainOnForwardHookStillDropsWhatWeAccepted) {
  // Documents the nftables semantics explained at the top of this file; it is why the
  // iptables test above exists and why this one expects a drop.
  const FlannelNode& node = make_node(GetParam());
  node.apply_rules();
  node.run_in_checked(node.node(), {"nft", "-f", "-"},
                      "table inet foreign-firewall {\n"
                      "  chain forward {\n"
                      "    type filter hook forward priority filter + 10; policy drop;\n"
                      "  }\n"
                      "}\n");
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    SCOPED_TRACE(to_string(family));
    const SourceSeen seen = source_seen_by_server(node, Protocol::udp, node.pod(0), node.outside(),
                                                  a.outside, kPort, kDroppedWait);
    EXPECT_EQ(seen.source, std::nullopt) << seen.describe() << node.rules_report();
    EXPECT_GT(forward_counter(node, a, "saddr"), 0)
        << "our forward chain saw and accepted the packet first" << node.rules_report();
  }
}

INSTANTIATE_TEST_SUITE_P(Stacks, NftablesForwardTest, kAllStacks, stack_name);

}  // namespace
}  // namespace fnft::netns_test
