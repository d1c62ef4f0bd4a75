// What the daemon takes out of flanneld's own nftables tables, and what it leaves there.
#include "state/flanneld_tables.hpp"

#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"

namespace fnft::state {
namespace {

NodeConfig ipv4_config(RuleOptions options = {}) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  config.options = options;
  return config;
}

Rule uncommented(Rule rule) {
  rule.comment.clear();
  return rule;
}

// flanneld's table as its nftables mode leaves it: the same chains as ours (the daemon's
// rules were modelled on them), no rule comments, under flanneld's name.
Table flanneld_table(bool postrtg, bool forward) {
  const Table ours = desired_nft_ruleset(ipv4_config()).tables.at(0);
  Table table{Family::ipv4, std::string(kFlanneldIpv4TableName), {}, {}, Protection::none};
  for (const auto& chain : ours.chains) {
    if ((chain.name == kPostroutingChainName && !postrtg) ||
        (chain.name == kForwardChainName && !forward))
      continue;
    Chain copy = chain;
    for (auto& rule : copy.rules) rule = uncommented(rule);
    table.chains.push_back(copy);
  }
  return table;
}

std::string plan_text(const std::vector<NftOperation>& plan) {
  std::string text;
  for (const auto& op : plan) text += describe(op) + "\n";
  return text;
}

TEST(FlanneldTables, NamesAreFlanneldsAndNotOurs) {
  EXPECT_EQ(flanneld_table_name(Family::ipv4), "flannel-ipv4");
  EXPECT_EQ(flanneld_table_name(Family::ipv6), "flannel-ipv6");
  EXPECT_NE(flanneld_table_name(Family::ipv4), kIpv4TableName);
  EXPECT_NE(flanneld_table_name(Family::ipv6), kIpv6TableName);
}

TEST(FlanneldTables, OursReplaceFlanneldsMasqueradeAndForwardChains) {
  const Ruleset observed{{flanneld_table(true, true)}};
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(observed, ipv4_config())),
            "flush chain ip flannel-ipv4 postrtg\n"
            "flush chain ip flannel-ipv4 forward\n"
            "delete chain ip flannel-ipv4 postrtg\n"
            "delete chain ip flannel-ipv4 forward\n");
}

TEST(FlanneldTables, ChainsOursDoNotReplaceStay) {
  const Ruleset observed{{flanneld_table(true, true)}};
  RuleOptions no_forward;
  no_forward.forward_rules = false;
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(observed, ipv4_config(no_forward))),
            "flush chain ip flannel-ipv4 postrtg\n"
            "delete chain ip flannel-ipv4 postrtg\n");
  RuleOptions no_masquerade;
  no_masquerade.ip_masq = false;
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(observed, ipv4_config(no_masquerade))),
            "flush chain ip flannel-ipv4 forward\n"
            "delete chain ip flannel-ipv4 forward\n");
}

TEST(FlanneldTables, AFamilyWeDoNotServeKeepsFlanneldsRules) {
  Table ipv6 = flanneld_table(true, false);
  ipv6.family = Family::ipv6;
  ipv6.name = std::string(kFlanneldIpv6TableName);
  EXPECT_TRUE(plan_flanneld_rules_removal(Ruleset{{ipv6}}, ipv4_config()).empty());
}

TEST(FlanneldTables, TheEmptyTablesFlanneldOpensAreLeftAlone) {
  const Ruleset observed{{flanneld_table(false, false)}};
  EXPECT_TRUE(plan_flanneld_rules_removal(observed, ipv4_config()).empty());
  EXPECT_TRUE(plan_earlier_flannel_nftd_tables_removal(observed).empty());
}

TEST(FlanneldTables, ATableAnEarlierFlannelNftdLeftGoesWhole) {
  // Every rule commented, as only flannel-nftd writes them.
  Table earlier = desired_nft_ruleset(ipv4_config()).tables.at(0);
  earlier.name = std::string(kFlanneldIpv4TableName);
  EXPECT_TRUE(left_by_earlier_flannel_nftd(earlier));
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(Ruleset{{earlier}}, ipv4_config())),
            "delete table ip flannel-ipv4\n");
  EXPECT_EQ(plan_text(plan_earlier_flannel_nftd_tables_removal(Ruleset{{earlier}})),
            "delete table ip flannel-ipv4\n");

  // `persist` too, even once someone flushed its chains.
  Table persisted{Family::ipv4, std::string(kFlanneldIpv4TableName), {}, {}, Protection::held};
  EXPECT_TRUE(left_by_earlier_flannel_nftd(persisted));
}

TEST(FlanneldTables, FlanneldsOwnRulesAreNotTakenForAnEarlierDaemons) {
  Table mixed = flanneld_table(true, false);
  EXPECT_FALSE(left_by_earlier_flannel_nftd(mixed));
  mixed.chains.at(0).rules.at(0).comment = "someone's note";
  EXPECT_FALSE(left_by_earlier_flannel_nftd(mixed)) << "one uncommented rule is flanneld's";
  EXPECT_TRUE(plan_earlier_flannel_nftd_tables_removal(Ruleset{{mixed}}).empty());
}

TEST(FlanneldTables, AFlowtableGoesOnlyWithTheForwardChainThatUsesIt) {
  Table table = flanneld_table(true, true);
  table.flowtables.push_back(Flowtable{std::string(kFlowtableName), -100, {"cni0"}, false});
  const Ruleset observed{{table}};
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(observed, ipv4_config())),
            "flush chain ip flannel-ipv4 postrtg\n"
            "flush chain ip flannel-ipv4 forward\n"
            "delete chain ip flannel-ipv4 postrtg\n"
            "delete chain ip flannel-ipv4 forward\n"
            "delete flowtable ip flannel-ipv4 fastpath\n");
  RuleOptions no_forward;
  no_forward.forward_rules = false;
  EXPECT_EQ(plan_text(plan_flanneld_rules_removal(observed, ipv4_config(no_forward))),
            "flush chain ip flannel-ipv4 postrtg\n"
            "delete chain ip flannel-ipv4 postrtg\n");
}

}  // namespace
}  // namespace fnft::state
