// What one repair batch contains for each way the kernel's tables can differ from ours.
#include "state/nft_plan.hpp"

#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"
#include "state/nft_text.hpp"
#include "tests/planned_rulesets.hpp"

namespace fnft::state {
namespace {

using fixtures::described;
using fixtures::plan_text;
using fixtures::with_handles;

const std::vector<OwnedTable> kOwned = {{Family::ipv4, "flannel-nftd-ipv4"},
                                        {Family::ipv6, "flannel-nftd-ipv6"}};

Ruleset desired() {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  return desired_nft_ruleset(config);
}

Rule foreign_rule() {
  return Rule{{UnknownExpression{"log"}}, false, Action{Action::Kind::drop, false, {}}, "", 99};
}

Chain& postrtg(Ruleset& ruleset) {
  return ruleset.tables.at(0).chains.at(0);
}

Ruleset desired_with_fast_path(std::vector<std::string> devices, bool counter = true) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  return desired_nft_ruleset(config, FastPath{std::move(devices), counter});
}

TEST(NftPlan, EqualStateNeedsNoOperation) {
  EXPECT_TRUE(plan_nft_changes(desired(), with_handles(desired()), kOwned).empty());
}

TEST(NftPlan, EmptyKernelGetsTableChainsAndRulesInOrder) {
  const auto plan = plan_nft_changes(desired(), Ruleset{}, kOwned);
  ASSERT_EQ(plan.size(), 1u + 1u + 6u + 1u + 2u) << plan_text(plan);
  EXPECT_EQ(describe(plan[0]), "add table ip flannel-nftd-ipv4");
  EXPECT_EQ(
      describe(plan[1]),
      "add chain ip flannel-nftd-ipv4 postrtg { type nat hook postrouting priority srcnat; policy "
      "accept; }");
  EXPECT_EQ(plan[2].kind, NftOperation::Kind::add_rule);
  EXPECT_EQ(plan[2].rule, desired().tables[0].chains[0].rules[0]);
}

TEST(NftPlan, ForeignRuleInsertedIntoOurChainIsDeletedByHandle) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  rules.insert(rules.begin() + 2, foreign_rule());
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 1u) << plan_text(plan);
  EXPECT_EQ(plan[0].kind, NftOperation::Kind::delete_rule);
  EXPECT_EQ(plan[0].handle, 99u);
}

TEST(NftPlan, SixtyFourForeignRulesAreStillDeletedByHandle) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  for (int i = 0; i < 64; ++i) rules.push_back(foreign_rule());
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 64u);
  EXPECT_EQ(plan.front().kind, NftOperation::Kind::delete_rule);
}

// Deleting by handle is a walk of the chain per rule in the kernel: 100,000 foreign rules took
// a minute. A flood is one flush and our six rules again, whatever its size.
TEST(NftPlan, AFloodOfForeignRulesFlushesAndRefillsTheChain) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  const std::vector<Rule> ours = rules;
  rules.assign(ours.begin(), ours.begin() + 3);
  rules.insert(rules.end(), 100'000, foreign_rule());
  rules.insert(rules.end(), ours.begin() + 3, ours.end());
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 1u + 6u) << plan_text(plan).substr(0, 2000);
  EXPECT_EQ(describe(plan[0]), "flush chain ip flannel-nftd-ipv4 postrtg");
  for (std::size_t i = 1; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].kind, NftOperation::Kind::add_rule);
    EXPECT_EQ(plan[i].rule, desired().tables[0].chains[0].rules[i - 1]);
  }
}

TEST(NftPlan, DuplicatedRuleIsDeletedKeepingTheFirst) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  Rule duplicate = rules[1];
  duplicate.handle = 77;
  rules.insert(rules.begin() + 2, duplicate);
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 1u) << plan_text(plan);
  EXPECT_EQ(plan[0].handle, 77u);
}

TEST(NftPlan, ADeletedRuleIsPutBackAfterTheRuleBeforeItDeletingNothing) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  const std::uint64_t before = rules[2].handle;
  rules.erase(rules.begin() + 3);
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 1u) << plan_text(plan);
  EXPECT_EQ(plan[0].kind, NftOperation::Kind::add_rule);
  EXPECT_EQ(plan[0].after, before);
  EXPECT_EQ(plan[0].rule, postrtg(observed = desired()).rules[3]);
}

TEST(NftPlan, MissingRulesAtTheHeadAndInRunsGoBackInOrder) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;  // 6 rules: keep the 3rd and the 5th
  const std::uint64_t third = rules[2].handle;
  const std::uint64_t fifth = rules[4].handle;
  rules = {rules[2], rules[4]};
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  const auto& want = postrtg(observed = desired()).rules;
  // Inserted last-first at each place, so the kernel ends up with them in order.
  ASSERT_EQ(plan.size(), 4u) << plan_text(plan);
  EXPECT_TRUE(plan[0].first && plan[0].rule == want[1]) << plan_text(plan);
  EXPECT_TRUE(plan[1].first && plan[1].rule == want[0]) << plan_text(plan);
  EXPECT_TRUE(plan[2].after == third && plan[2].rule == want[3]) << plan_text(plan);
  EXPECT_TRUE(plan[3].after == fifth && plan[3].rule == want[5]) << plan_text(plan);
}

TEST(NftPlan, AFlushedChainIsRefilledByAppendingWithoutAFlush) {
  Ruleset observed = with_handles(desired());
  postrtg(observed).rules.clear();
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 6u) << plan_text(plan);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].kind, NftOperation::Kind::add_rule);
    EXPECT_FALSE(plan[i].first || plan[i].after) << plan_text(plan);
    EXPECT_EQ(plan[i].rule, postrtg(observed = desired()).rules[i]);
  }
}

TEST(NftPlan, MissingAndExtraRulesTogetherRewriteTheChain) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  rules.erase(rules.begin() + 1);
  rules.push_back(foreign_rule());
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(describe(plan[0]), "flush chain ip flannel-nftd-ipv4 postrtg");
}

TEST(NftPlan, ReorderedRulesAreRewritten) {
  Ruleset observed = with_handles(desired());
  auto& rules = postrtg(observed).rules;
  std::swap(rules[4], rules[5]);
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0].kind, NftOperation::Kind::flush_chain) << plan_text(plan);
}

TEST(NftPlan, ChangedPolicyIsUpdatedInPlace) {
  Ruleset observed = with_handles(desired());
  observed.tables[0].chains[1].base->policy = Policy::drop;
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 1u) << plan_text(plan);
  EXPECT_EQ(
      describe(plan[0]),
      "add chain ip flannel-nftd-ipv4 forward { type filter hook forward priority filter; policy "
      "accept; }");
}

TEST(NftPlan, ChangedPriorityReplacesTheChain) {
  Ruleset observed = with_handles(desired());
  observed.tables[0].chains[1].base->priority = 10;
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  EXPECT_EQ(
      plan_text(plan),
      "flush chain ip flannel-nftd-ipv4 forward\n"
      "delete chain ip flannel-nftd-ipv4 forward\n"
      "add chain ip flannel-nftd-ipv4 forward { type filter hook forward priority filter; policy "
      "accept; }\n"
      "add rule ip flannel-nftd-ipv4 forward ip saddr 10.244.0.0/16 counter accept comment "
      "\"forward from cluster\"\n"
      "add rule ip flannel-nftd-ipv4 forward ip daddr 10.244.0.0/16 counter accept comment "
      "\"forward to cluster\"\n");
}

TEST(NftPlan, ForeignChainInOurTableIsRemovedAfterTheRulesThatJumpToIt) {
  Ruleset observed = with_handles(desired());
  Rule jump = foreign_rule();
  jump.matches.clear();
  jump.action = Action{Action::Kind::jump, false, "sneaky"};
  postrtg(observed).rules.insert(postrtg(observed).rules.begin(), jump);
  observed.tables[0].chains.push_back(Chain{"sneaky", std::nullopt, {foreign_rule()}});
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  EXPECT_EQ(plan_text(plan),
            "delete rule ip flannel-nftd-ipv4 postrtg handle 99 # jump sneaky\n"
            "flush chain ip flannel-nftd-ipv4 sneaky\n"
            "delete chain ip flannel-nftd-ipv4 sneaky\n");
}

TEST(NftPlan, OwnedTableNoLongerWantedIsDeleted) {
  Ruleset observed = with_handles(desired());
  observed.tables.push_back(Table{Family::ipv6, "flannel-nftd-ipv6", {}, {}});
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  EXPECT_EQ(plan_text(plan), "delete table ip6 flannel-nftd-ipv6\n");
}

TEST(NftPlan, TablesWeDoNotOwnAreNeverTouched) {
  Ruleset observed = with_handles(desired());
  observed.tables.push_back(Table{Family::ipv4, "kube-proxy", {}, {}});
  EXPECT_TRUE(plan_nft_changes(desired(), observed, kOwned).empty());
}

}  // namespace
}  // namespace fnft::state

namespace fnft::state {
namespace {

TEST(NftPlanFastPath, AFlowtableComesBeforeTheRulesThatUseIt) {
  const auto plan = plan_nft_changes(desired_with_fast_path({"cni0", "eth0"}), Ruleset{}, kOwned);
  ASSERT_GE(plan.size(), 3u) << plan_text(plan);
  EXPECT_EQ(
      describe(plan[1]),
      "add flowtable ip flannel-nftd-ipv4 fastpath { hook ingress priority filter; devices = { "
      "cni0, eth0 }; counter; }");
}

TEST(NftPlanFastPath, NewAndGoneDevicesChangeTheFlowtableInPlace) {
  Ruleset observed = with_handles(desired_with_fast_path({"cni0", "eth0", "veth-gone"}));
  const auto plan =
      plan_nft_changes(desired_with_fast_path({"cni0", "eth0", "veth-new"}), observed, kOwned);
  EXPECT_EQ(
      plan_text(plan),
      "delete flowtable ip flannel-nftd-ipv4 fastpath { devices = { veth-gone }; }\n"
      "add flowtable ip flannel-nftd-ipv4 fastpath { hook ingress priority filter; devices = { "
      "veth-new }; counter; }\n");
}

TEST(NftPlanFastPath, AFlowtableWithOtherFlagsIsReplacedAndItsRuleWithIt) {
  Ruleset observed = with_handles(desired_with_fast_path({"cni0"}, /*counter=*/false));
  const auto plan = plan_nft_changes(desired_with_fast_path({"cni0"}), observed, kOwned);
  EXPECT_EQ(describe(plan.at(0)), "flush chain ip flannel-nftd-ipv4 forward");
  EXPECT_EQ(describe(plan.at(1)), "delete flowtable ip flannel-nftd-ipv4 fastpath");
  EXPECT_EQ(
      describe(plan.at(2)),
      "add flowtable ip flannel-nftd-ipv4 fastpath { hook ingress priority filter; devices = { "
      "cni0 }; counter; }");
  EXPECT_EQ(plan.at(3).kind, NftOperation::Kind::add_rule);
  EXPECT_EQ(plan.at(3).rule.action.kind, Action::Kind::offload);
}

TEST(NftPlanFastPath, TurningTheFastPathOffRemovesTheRuleThenTheFlowtable) {
  Ruleset observed = with_handles(desired_with_fast_path({"cni0"}));
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  ASSERT_EQ(plan.size(), 2u) << plan_text(plan);
  EXPECT_EQ(plan.at(0).kind, NftOperation::Kind::delete_rule);  // the offload rule, by handle
  EXPECT_EQ(plan.at(0).rule.action.kind, Action::Kind::offload);
  EXPECT_EQ(describe(plan.at(1)), "delete flowtable ip flannel-nftd-ipv4 fastpath");
}

TEST(NftPlanFastPath, AForeignFlowtableInOurTableIsDeleted) {
  Ruleset observed = with_handles(desired());
  observed.tables[0].flowtables.push_back(Flowtable{"theirs", 10, {"eth9"}, false});
  const auto plan = plan_nft_changes(desired(), observed, kOwned);
  EXPECT_EQ(plan_text(plan), "delete flowtable ip flannel-nftd-ipv4 theirs\n");
}

Ruleset with_protection(Ruleset ruleset, Protection protection) {
  for (auto& table : ruleset.tables) table.protection = protection;
  return ruleset;
}

TEST(NftPlanProtection, AMissingTableIsCreatedHeld) {
  const auto plan =
      plan_nft_changes(with_protection(desired(), Protection::held), Ruleset{}, kOwned);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(describe(plan[0]), "add table ip flannel-nftd-ipv4 { flags owner, persist; }");
}

TEST(NftPlanProtection, AHeldTableAsDesiredNeedsNothing) {
  const Ruleset held = with_protection(desired(), Protection::held);
  EXPECT_TRUE(plan_nft_changes(held, with_handles(held), kOwned).empty());
}

TEST(NftPlanProtection, AnOrphanIsTakenBackInPlaceAndOnlyItsDifferencesPlanned) {
  Ruleset orphan = with_protection(with_handles(desired()), Protection::orphaned);
  EXPECT_EQ(
      plan_text(plan_nft_changes(with_protection(desired(), Protection::held), orphan, kOwned)),
      "add table ip flannel-nftd-ipv4 { flags owner, persist; }\n");
  // A difference inside it is planned as for any table, after the claim.
  postrtg(orphan).rules.insert(postrtg(orphan).rules.begin(), foreign_rule());
  const auto plan = plan_nft_changes(with_protection(desired(), Protection::held), orphan, kOwned);
  ASSERT_EQ(plan.size(), 2u) << plan_text(plan);
  EXPECT_EQ(plan[0].kind, NftOperation::Kind::add_table);
  EXPECT_EQ(plan[1].kind, NftOperation::Kind::delete_rule);
}

// The kernel adds no base chain in the transaction that takes a table back: an orphan that
// lacks one is replaced, whole, in one batch, like any table whose protection differs.
TEST(NftPlanProtection, AnOrphanLackingABaseChainIsReplacedNotTakenBack) {
  const Ruleset held = with_protection(desired(), Protection::held);
  Ruleset emptied = with_protection(with_handles(desired()), Protection::orphaned);
  emptied.tables[0].chains.clear();
  EXPECT_FALSE(takes_back_in_place(held.tables[0], emptied.tables[0]));
  const auto plan = plan_nft_changes(held, emptied, kOwned);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(describe(plan[0]), "delete table ip flannel-nftd-ipv4");
  EXPECT_EQ(plan_text(std::vector<NftOperation>(plan.begin() + 1, plan.end())),
            plan_text(plan_nft_changes(held, Ruleset{}, kOwned)));

  // A base chain that is there but hooked otherwise would be re-created: replaced too.
  Ruleset rehooked = with_protection(with_handles(desired()), Protection::orphaned);
  postrtg(rehooked).base->priority += 1;
  EXPECT_FALSE(takes_back_in_place(held.tables[0], rehooked.tables[0]));
  // Missing rules alone are no obstacle: they go in after the claim.
  Ruleset flushed = with_protection(with_handles(desired()), Protection::orphaned);
  postrtg(flushed).rules.clear();
  EXPECT_TRUE(takes_back_in_place(held.tables[0], flushed.tables[0]));
  EXPECT_EQ(plan_nft_changes(held, flushed, kOwned).front().kind, NftOperation::Kind::add_table);
}

TEST(NftPlanProtection, AnUnprotectedTableIsReplacedInOneBatchToBeHeld) {
  const Ruleset held = with_protection(desired(), Protection::held);
  const auto plan = plan_nft_changes(held, with_handles(desired()), kOwned);
  // The kernel cannot add `persist` to an existing table: the batch deletes it first and
  // builds it again, whole, which packets see as one switch.
  EXPECT_EQ(plan_text(plan), plan_text([&] {
              auto rebuilt = plan_nft_changes(held, Ruleset{}, kOwned);
              rebuilt.insert(rebuilt.begin(), plan[0]);
              return rebuilt;
            }()));
  EXPECT_EQ(describe(plan[0]), "delete table ip flannel-nftd-ipv4");
}

TEST(NftPlanProtection, ProtectionNoLongerWantedReplacesTheTable) {
  for (const auto protection : {Protection::held, Protection::orphaned}) {
    const auto plan =
        plan_nft_changes(desired(), with_protection(with_handles(desired()), protection), kOwned);
    ASSERT_GE(plan.size(), 2u) << plan_text(plan);
    EXPECT_EQ(describe(plan[0]), "delete table ip flannel-nftd-ipv4") << to_string(protection);
    EXPECT_EQ(describe(plan[1]), "add table ip flannel-nftd-ipv4") << to_string(protection);
  }
}

TEST(NftPlanProtection, AHeldTableNoLongerWantedIsDeleted) {
  EXPECT_EQ(plan_text(plan_nft_changes(
                Ruleset{}, with_protection(with_handles(desired()), Protection::held), kOwned)),
            "delete table ip flannel-nftd-ipv4\n");
}

}  // namespace
}  // namespace fnft::state
