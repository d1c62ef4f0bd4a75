// What `doctor` concludes from what it read of a node.
#include "state/doctor.hpp"

#include <gtest/gtest.h>

namespace fnft::state {
namespace {

NodeReading clean_node() {
  NodeReading node;
  node.mode = Mode::nftables;
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  node.config = config;
  node.ip_forward = 1;
  node.conntrack_count = 10;
  node.conntrack_max = 262144;
  return node;
}

TEST(Doctor, ACleanNodeHasNoFinding) {
  EXPECT_TRUE(diagnose(clean_node()).empty());
}

TEST(Doctor, AConntrackTableNearlyFullIsAWarningThenAnError) {
  NodeReading node = clean_node();
  node.conntrack_count = 200000;  // 76%
  auto findings = diagnose(node);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Finding::Severity::warning);
  EXPECT_EQ(findings[0].evidence, "nf_conntrack_count 200000 of nf_conntrack_max 262144");
  node.conntrack_count = 250000;  // 95%
  findings = diagnose(node);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Finding::Severity::error);
}

TEST(Doctor, ConnectionsLeftWithoutMasqueradeAreCountedWithTheFix) {
  NodeReading node = clean_node();
  node.unmasqueraded_connections = {{{"IPv4", 0}, {"IPv6", 0}}};
  EXPECT_TRUE(diagnose(node).empty());
  node.unmasqueraded_connections = {{{"IPv4", 47}, {"IPv6", 2}}};
  const auto findings = diagnose(node);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Finding::Severity::warning);
  EXPECT_NE(findings[0].what.find("49 connection(s)"), std::string::npos) << findings[0].what;
  EXPECT_EQ(findings[0].evidence,
            "conntrack entries without source NAT that the rules now masquerade: 47 IPv4, 2 IPv6");
  EXPECT_NE(findings[0].action.find("flannel-nftd run"), std::string::npos);
}

TEST(Doctor, TheIptablesModesOwnForwardChainMayDropWhatItsRulesDoNotAccept) {
  NodeReading node = clean_node();
  node.base_chains.push_back(
      {"ip", "filter", "FORWARD", "filter", "forward", 0, /*policy_drop=*/true, false, false});
  EXPECT_EQ(diagnose(node).size(), 1u) << "nftables mode: our accept cannot override it";
  node.mode = Mode::iptables;
  EXPECT_TRUE(diagnose(node).empty()) << "iptables mode: our FLANNEL-FWD jump is in that chain";
}

TEST(Doctor, AnotherFamilysChainsMatterOnlyForTheFamiliesInUse) {
  NodeReading node = clean_node();  // IPv4 only
  node.base_chains.push_back(
      {"ip6", "filter", "FORWARD", "filter", "forward", 0, /*policy_drop=*/true, false, false});
  EXPECT_TRUE(diagnose(node).empty());
  node.base_chains.push_back(
      {"inet", "firewalld", "filter_FORWARD", "filter", "forward", 10, true, false, false});
  EXPECT_EQ(diagnose(node).size(), 1u);
}

TEST(Doctor, FlanneldsOwnNftablesChainsAreNamedWithTheFlagThatEndsThem) {
  NodeReading node = clean_node();
  node.base_chains.push_back({"ip", "flannel-ipv4", "postrtg", "nat", "postrouting", 100, false,
                              /*masquerades=*/true, false});
  node.base_chains.push_back(
      {"ip", "flannel-ipv4", "forward", "filter", "forward", 0, false, false, false});
  const auto findings = diagnose(node);
  ASSERT_EQ(findings.size(), 2u) << "one each, not also the generic masquerade finding";
  EXPECT_EQ(findings[0].severity, Finding::Severity::warning);
  EXPECT_NE(findings[0].what.find("flanneld masquerades pod traffic itself"), std::string::npos);
  EXPECT_NE(findings[0].action.find("--ip-masq=false"), std::string::npos);
  EXPECT_NE(findings[1].action.find("--iptables-forward-rules=false"), std::string::npos);

  // Another table's chain of the same name is not flanneld's.
  NodeReading other = clean_node();
  other.base_chains.push_back(
      {"ip", "someone", "postrtg", "nat", "postrouting", 100, false, true, false});
  ASSERT_EQ(diagnose(other).size(), 1u);
  EXPECT_EQ(diagnose(other)[0].what.find("flanneld"), std::string::npos);
}

}  // namespace
}  // namespace fnft::state
