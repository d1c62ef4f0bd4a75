// Keeping what we read of our tables current from the deletions the events report.
#include "state/known_ruleset.hpp"

#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"

namespace fnft::state {
namespace {

Ruleset known() {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  Ruleset ruleset = desired_nft_ruleset(config);
  std::uint64_t handle = 2;
  for (auto& table : ruleset.tables)
    for (auto& chain : table.chains)
      for (auto& rule : chain.rules) rule.handle = handle++;
  return ruleset;
}

Deletion rule(std::string chain, std::uint64_t handle) {
  return {Deletion::Kind::rule, Family::ipv4, "flannel-nftd-ipv4", std::move(chain), handle};
}

Deletion table(Family family, std::string name) {
  return {Deletion::Kind::table, family, std::move(name), {}, 0};
}

TEST(KnownRuleset, ADeletedRuleLeavesTheOthersInOrder) {
  Ruleset ruleset = known();
  const auto& rules = ruleset.tables[0].chains[0].rules;
  const std::uint64_t victim = rules[2].handle;
  ASSERT_TRUE(apply_deletion(ruleset, rule(ruleset.tables[0].chains[0].name, victim)));
  EXPECT_EQ(ruleset.tables[0].chains[0].rules.size(), 5u);
  for (const auto& left : ruleset.tables[0].chains[0].rules) EXPECT_NE(left.handle, victim);
}

TEST(KnownRuleset, ATableGoesAfterItsRulesAndChainsAsTheKernelReportsThem) {
  Ruleset ruleset = known();
  const Table ours = ruleset.tables[0];
  // The kernel reports the table's deletion last; a table that still has chains is not
  // what the events describe.
  EXPECT_FALSE(apply_deletion(ruleset, table(Family::ipv4, "flannel-nftd-ipv4")));
  for (const auto& chain : ours.chains) {
    for (const auto& r : chain.rules)
      ASSERT_TRUE(apply_deletion(ruleset, rule(chain.name, r.handle)));
    ASSERT_TRUE(apply_deletion(
        ruleset, {Deletion::Kind::chain, Family::ipv4, "flannel-nftd-ipv4", chain.name, 0}));
  }
  EXPECT_TRUE(apply_deletion(ruleset, table(Family::ipv4, "flannel-nftd-ipv4")));
  EXPECT_TRUE(ruleset.tables.empty());
}

TEST(KnownRuleset, WhatWeNeverReadCannotBeDeleted) {
  Ruleset ruleset = known();
  EXPECT_FALSE(apply_deletion(ruleset, rule("postrtg", 999)));
  EXPECT_FALSE(apply_deletion(ruleset, rule("nope", 2)));
  EXPECT_FALSE(apply_deletion(ruleset, table(Family::ipv6, "flannel-nftd-ipv6")));
  EXPECT_EQ(ruleset, known());
}

TEST(KnownRuleset, GenerationsWrapSkippingZero) {
  EXPECT_EQ(next_generation(41), 42u);
  EXPECT_EQ(next_generation(0xffffffff), 1u);
  EXPECT_TRUE(not_newer(41, 42));
  EXPECT_TRUE(not_newer(42, 42));
  EXPECT_FALSE(not_newer(43, 42));
  EXPECT_TRUE(not_newer(0xfffffff0, 3));  // before the wrap
  EXPECT_FALSE(not_newer(3, 0xfffffff0));
}

}  // namespace
}  // namespace fnft::state
