// The desired ruleset for flannel's sample configs, against golden files reviewed by hand
// against docs/design.md "The ruleset", plus the rule semantics that must hold for any config.
#include "state/desired_ruleset.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "state/config_parse.hpp"
#include "state/iptables_ruleset.hpp"
#include "state/nft_text.hpp"

namespace fnft::state {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string data_path(const std::string& relative) {
  return std::string(FNFT_TEST_DATA_DIR) + "/" + relative;
}

NodeConfig sample_config(const std::string& name, RuleOptions options = {}) {
  const std::string env_path = data_path("config/" + name + "/subnet.env");
  const std::string conf_path = data_path("config/" + name + "/net-conf.json");
  return resolve_node_config(parse_subnet_env(read_file(env_path), env_path), env_path,
                             parse_net_conf(read_file(conf_path), conf_path), conf_path, options);
}

std::string iptables_payload(const NodeConfig& config) {
  return to_iptables_restore(config);
}

class GoldenRuleset : public testing::TestWithParam<std::string> {};

TEST_P(GoldenRuleset, NftTextMatchesGoldenFile) {
  const std::string golden = data_path("golden/" + GetParam() + ".nft");
  EXPECT_EQ(to_nft_text(desired_nft_ruleset(sample_config(GetParam()))), read_file(golden))
      << "golden file: " << golden;
}

TEST_P(GoldenRuleset, IptablesPayloadMatchesGoldenFile) {
  const std::string golden = data_path("golden/" + GetParam() + ".iptables");
  EXPECT_EQ(iptables_payload(sample_config(GetParam())), read_file(golden))
      << "golden file: " << golden;
}

INSTANTIATE_TEST_SUITE_P(SampleConfigs, GoldenRuleset, testing::Values("ipv4", "ipv6", "dual"));

NodeConfig ipv4_node(RuleOptions options = {}) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  config.options = options;
  return config;
}

TEST(DesiredRuleset, KubeProxyMarkIsAMaskTestNotEquality) {
  const Ruleset ruleset = desired_nft_ruleset(ipv4_node());
  const Rule& first = ruleset.tables.at(0).chains.at(0).rules.at(0);
  ASSERT_EQ(first.matches.size(), 1u);
  EXPECT_EQ(std::get<MarkMatch>(first.matches[0]), (MarkMatch{0x4000, 0x4000}));
  EXPECT_EQ(to_nft_text(first, Family::ipv4),
            "meta mark & 0x00004000 == 0x00004000 counter return comment \"kube-proxy marked: "
            "masqueraded by kube-proxy\"");
}

TEST(DesiredRuleset, ExternalToPodRuleExcludesTheClusterNotTheLease) {
  // iptables' `! -s $C -d $P -j RETURN`; upstream nftables' `saddr != $P` would make the
  // host-to-cluster masquerade rule unreachable.
  const Ruleset ruleset = desired_nft_ruleset(ipv4_node());
  const Rule& fourth = ruleset.tables.at(0).chains.at(0).rules.at(3);
  EXPECT_EQ(to_nft_text(fourth, Family::ipv4),
            "ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 counter return comment \"outside to "
            "pod subnet: no masquerade\"");
}

TEST(DesiredRuleset, EveryRuleHasACounterAndAComment) {
  NodeConfig config = ipv4_node();
  config.ipv6 = FamilyNetworks{*parse_cidr("fd00:10:244::/56"), *parse_cidr("fd00:10:244:1::/64")};
  for (const auto& table : desired_nft_ruleset(config).tables) {
    for (const auto& chain : table.chains) {
      for (const auto& rule : chain.rules) {
        EXPECT_TRUE(rule.counter) << to_nft_text(rule, table.family);
        EXPECT_FALSE(rule.comment.empty()) << to_nft_text(rule, table.family);
      }
    }
  }
}

TEST(DesiredRuleset, FullyRandomDisableDropsTheFlagFromBothMasqueradeRules) {
  RuleOptions options;
  options.masq_fully_random = false;
  const std::string text = to_nft_text(desired_nft_ruleset(ipv4_node(options)));
  EXPECT_EQ(text.find("fully-random"), std::string::npos) << text;
  EXPECT_NE(text.find("masquerade comment"), std::string::npos) << text;
  const std::string payload = iptables_payload(ipv4_node(options));
  EXPECT_EQ(payload.find("--random-fully"), std::string::npos) << payload;
}

TEST(DesiredRuleset, IpMasqFalseLeavesOnlyTheForwardChain) {
  RuleOptions options;
  options.ip_masq = false;
  const Ruleset ruleset = desired_nft_ruleset(ipv4_node(options));
  ASSERT_EQ(ruleset.tables.size(), 1u);
  ASSERT_EQ(ruleset.tables[0].chains.size(), 1u);
  EXPECT_EQ(ruleset.tables[0].chains[0].name, "forward");
  EXPECT_EQ(iptables_payload(ipv4_node(options)).find("*nat"), std::string::npos);
}

TEST(DesiredRuleset, NoRulesWantedMeansNoTable) {
  RuleOptions options;
  options.ip_masq = false;
  options.forward_rules = false;
  EXPECT_TRUE(desired_nft_ruleset(ipv4_node(options)).tables.empty());
}

TEST(DesiredRuleset, EqualityIgnoresKernelHandles) {
  Ruleset a = desired_nft_ruleset(ipv4_node());
  Ruleset b = a;
  b.tables[0].chains[0].rules[2].handle = 42;
  EXPECT_EQ(a, b);
  b.tables[0].chains[0].rules[2].comment = "changed";
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace fnft::state
