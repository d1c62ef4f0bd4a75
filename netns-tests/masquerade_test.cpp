// Masquerade with real packets: which traffic leaves the node with the uplink address and
// which keeps its pod source. The topology gives outside no route back to the pods, so a
// reply reaching a pod proves the request was masqueraded.
#include <gmock/gmock.h>

#include <cstdio>
#include <tuple>

#include "netns-tests/netns_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kPort = 5000;

using MasqueradeTest = NetnsParamTest<Stack>;

TEST_P(MasqueradeTest, WithoutFlannelRulesPodTrafficLeavesWithPodAddressAndGetsNoReply) {
  // The control for the tests below: it is our rules, not the topology, that masquerade.
  const FlannelNode& node = make_node(GetParam());
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    const SourceSeen seen =
        source_seen_by_server(node, Protocol::udp, node.pod(0), node.outside(), a.outside, kPort);
    EXPECT_EQ(seen.source, a.pods[0]) << seen.describe() << node.rules_report();
    const RunResult echo = ping(node, node.pod(0), a.outside);
    EXPECT_FALSE(echo.ok()) << "outside has no route back, so no reply can come\n"
                            << echo.describe() << node.rules_report();
  }
}

TEST_P(MasqueradeTest, PodToOutsideIsMasqueradedToUplinkAddress) {
  const FlannelNode& node = make_node(GetParam());
  node.apply_rules();
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    for (const Protocol protocol : {Protocol::udp, Protocol::tcp}) {
      SCOPED_TRACE(to_string(family) + " " + to_string(protocol));
      const SourceSeen seen =
          source_seen_by_server(node, protocol, node.pod(0), node.outside(), a.outside, kPort);
      EXPECT_EQ(seen.source, a.uplink_node) << seen.describe() << node.rules_report();
      // TCP's round trip needs the replies to find their way back through conntrack.
      EXPECT_TRUE(seen.client.ok()) << seen.describe() << node.rules_report();
    }
  }
}

TEST_P(MasqueradeTest, PodPingsOutsideAlthoughOutsideHasNoRouteBack) {
  const FlannelNode& node = make_node(GetParam());
  node.apply_rules();
  for (const Family family : families(GetParam())) {
    const RunResult echo = ping(node, node.pod(0), addresses(family).outside);
    EXPECT_TRUE(echo.ok()) << echo.describe() << node.rules_report();
  }
}

TEST_P(MasqueradeTest, PodToRemotePodSubnetKeepsPodAddress) {
  const FlannelNode& node = make_node(GetParam());
  node.apply_rules();
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    for (const Protocol protocol : {Protocol::udp, Protocol::tcp}) {
      SCOPED_TRACE(to_string(family) + " " + to_string(protocol));
      const SourceSeen seen =
          source_seen_by_server(node, protocol, node.pod(1), node.remote(), a.remote_pod, kPort);
      EXPECT_EQ(seen.source, a.pods[1]) << seen.describe() << node.rules_report();
    }
  }
}

TEST_P(MasqueradeTest, OutsideToPodKeepsOutsideAddress) {
  const FlannelNode& node = make_node(GetParam());
  node.route_outside_to_pods();
  node.apply_rules();
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    for (const Protocol protocol : {Protocol::udp, Protocol::tcp}) {
      SCOPED_TRACE(to_string(family) + " " + to_string(protocol));
      const SourceSeen seen =
          source_seen_by_server(node, protocol, node.outside(), node.pod(0), a.pods[0], kPort);
      EXPECT_EQ(seen.source, a.outside) << seen.describe() << node.rules_report();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stacks, MasqueradeTest, kAllStacks, stack_name);

// kube-proxy marks the packets it wants masqueraded (0x4000, maybe with other bits set) and
// masquerades them itself; flannel must step aside for them, testing the bit, not the value.
class KubeProxyMarkTest : public NetnsParamTest<std::tuple<Stack, std::uint32_t>> {};

std::string hex(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", value);
  return text;
}

// A kube-proxy-like table of the test's own that marks UDP to `port` on outside.
std::string marking_table(const Addresses& a, int port, std::uint32_t mark) {
  return substitute(R"(table $F kubeproxy-test {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    $F daddr $OUTSIDE udp dport $PORT meta mark set meta mark | $MARK
  }
}
)",
                    {{"$F", a.nft_family},
                     {"$OUTSIDE", a.outside},
                     {"$PORT", std::to_string(port)},
                     {"$MARK", hex(mark)}});
}

std::string mark_test_name(const testing::TestParamInfo<std::tuple<Stack, std::uint32_t>>& param) {
  return to_string(std::get<0>(param.param)) + "_Mark" + hex(std::get<1>(param.param));
}

TEST_P(KubeProxyMarkTest, KubeProxyMarkedPacketIsNotMasqueraded) {
  const auto [stack, mark] = GetParam();
  const FlannelNode& node = make_node(stack);
  node.apply_rules();
  for (const Family family : families(stack)) {
    const Addresses& a = addresses(family);
    node.run_in_checked(node.node(), {"nft", "-f", "-"}, marking_table(a, kPort, mark));

    const SourceSeen marked =
        source_seen_by_server(node, Protocol::udp, node.pod(0), node.outside(), a.outside, kPort);
    EXPECT_EQ(marked.source, a.pods[0]) << marked.describe() << node.rules_report();

    // The same pod to another port is not marked, and so is masqueraded.
    const SourceSeen unmarked = source_seen_by_server(node, Protocol::udp, node.pod(0),
                                                      node.outside(), a.outside, kPort + 1);
    EXPECT_EQ(unmarked.source, a.uplink_node) << unmarked.describe() << node.rules_report();
  }
}

INSTANTIATE_TEST_SUITE_P(StacksAndMarks, KubeProxyMarkTest,
                         testing::Combine(kAllStacks, testing::Values(std::uint32_t{0x4000},
                                                                      std::uint32_t{0x4001})),
                         mark_test_name);

}  // namespace
}  // namespace fnft::netns_test
