// What a sync of our tables plans around the rules: tables other processes own, tables the
// model cannot hold, protection changes, cleanup.
#include "state/table_sync_plan.hpp"

#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"
#include "tests/planned_rulesets.hpp"

namespace fnft::state {
namespace {

using fixtures::described;
using fixtures::plan_text;
using fixtures::with_handles;

const std::vector<OwnedTable> kOwned = {{Family::ipv4, "flannel-nftd-ipv4"},
                                        {Family::ipv6, "flannel-nftd-ipv6"}};
constexpr std::uint32_t kOurPort = 4242;

Ruleset desired(Protection protection = Protection::none) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  config.ipv6 = FamilyNetworks{*parse_cidr("fd00:10:244::/56"), *parse_cidr("fd00:10:244:1::/64")};
  Ruleset ruleset = desired_nft_ruleset(config);
  for (auto& table : ruleset.tables) table.protection = protection;
  return ruleset;
}

TEST(TableSyncPlan, ATableAnotherSocketOwnsIsLeftOutAndNamed) {
  Ruleset observed = with_handles(desired());
  observed.tables[0].chains[0].rules.clear();  // changed, but not ours to repair now
  const UnmodeledTable theirs{Family::ipv4, "flannel-nftd-ipv4", {"flags owner"}, 777};
  const PlannableTables tables =
      leave_out_tables_owned_elsewhere(observed, {theirs}, kOwned, kOurPort);

  ASSERT_EQ(tables.owned_elsewhere.size(), 1u);
  EXPECT_EQ(tables.owned_elsewhere[0], theirs);
  EXPECT_EQ(tables.scope, (std::vector<OwnedTable>{kOwned[1]}));
  ASSERT_EQ(tables.observed.tables.size(), 1u);
  EXPECT_EQ(tables.observed.tables[0].family, Family::ipv6);
  EXPECT_TRUE(tables.unmodeled.empty());
  // The IPv6 table is equal, the IPv4 one out of scope: nothing to commit.
  EXPECT_TRUE(plan_table_sync(desired(), tables).operations.empty());
}

TEST(TableSyncPlan, ATableOurOwnSocketOwnsIsOursToPlan) {
  const Ruleset observed = with_handles(desired(Protection::held));
  const UnmodeledTable ours{
      Family::ipv4, "flannel-nftd-ipv4", {"1 sets, maps or stateful objects"}, kOurPort};
  const PlannableTables tables =
      leave_out_tables_owned_elsewhere(observed, {ours}, kOwned, kOurPort);
  EXPECT_TRUE(tables.owned_elsewhere.empty());
  EXPECT_EQ(tables.scope, kOwned);
  EXPECT_EQ(tables.unmodeled, std::vector<UnmodeledTable>{ours});
  const TableSyncPlan plan = plan_table_sync(desired(Protection::held), tables);
  ASSERT_FALSE(plan.operations.empty());
  EXPECT_EQ(describe(plan.operations.front()), "delete table ip flannel-nftd-ipv4");
}

TEST(TableSyncPlan, ATableTheModelCannotHoldIsReplacedInTheSameBatchWithANote) {
  const Ruleset observed = with_handles(desired());
  const UnmodeledTable commented{
      Family::ipv6, "flannel-nftd-ipv6", {"comment \"x\"", "1 set"}, std::nullopt};
  const TableSyncPlan plan = plan_table_sync(
      desired(), leave_out_tables_owned_elsewhere(observed, {commented}, kOwned, kOurPort));

  Ruleset without_ipv6 = observed;
  without_ipv6.tables.pop_back();
  std::vector<std::string> expected = {"delete table ip6 flannel-nftd-ipv6"};
  for (auto& line : described(plan_nft_changes(desired(), without_ipv6, kOwned)))
    expected.push_back(line);
  EXPECT_EQ(described(plan.operations), expected);
  EXPECT_EQ(plan.notes, std::vector<std::string>{
                            "table ip6 flannel-nftd-ipv6 has comment \"x\", 1 set, which "
                            "flannel-nftd does not model: deleted and re-created in the same "
                            "transaction"});
}

TEST(TableSyncPlan, ATableTheConfigNoLongerWantsIsDeletedOnce) {
  const Ruleset observed = with_handles(desired());
  Ruleset ipv4_only = desired();
  ipv4_only.tables.pop_back();
  const UnmodeledTable dormant{Family::ipv6, "flannel-nftd-ipv6", {"flags dormant"}, std::nullopt};
  const TableSyncPlan plan = plan_table_sync(
      ipv4_only, leave_out_tables_owned_elsewhere(observed, {dormant}, kOwned, kOurPort));
  EXPECT_EQ(described(plan.operations),
            std::vector<std::string>{"delete table ip6 flannel-nftd-ipv6"});
  EXPECT_TRUE(plan.notes.empty());
}

TEST(TableSyncPlan, EveryProtectionChangeIsExplained) {
  const auto notes = [](Protection want, Protection have) {
    return plan_table_sync(desired(want), leave_out_tables_owned_elsewhere(
                                              with_handles(desired(have)), {}, kOwned, kOurPort))
        .notes;
  };
  const auto taken_back = notes(Protection::held, Protection::orphaned);
  ASSERT_EQ(taken_back.size(), 2u);
  EXPECT_EQ(taken_back[0],
            "table ip flannel-nftd-ipv4 was left unowned (`flags persist`) by an owner that "
            "exited: taken back (`flags owner, persist`) with what it holds");
  const auto held = notes(Protection::held, Protection::none);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_NE(held[1].find("table ip6 flannel-nftd-ipv6 taken over with `flags owner, persist`"),
            std::string::npos)
      << held[1];
  const auto dropped = notes(Protection::none, Protection::orphaned);
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_NE(dropped[0].find("--protect=off does not keep"), std::string::npos) << dropped[0];
  EXPECT_TRUE(notes(Protection::none, Protection::none).empty());
}

TEST(TableSyncPlan, CleanupDeletesEveryTableThatExists) {
  Ruleset observed = with_handles(desired());
  observed.tables.erase(observed.tables.begin());
  EXPECT_EQ(described(plan_tables_removal(observed)),
            std::vector<std::string>{"delete table ip6 flannel-nftd-ipv6"});
  EXPECT_TRUE(plan_tables_removal(Ruleset{}).empty());
}

}  // namespace
}  // namespace fnft::state

namespace fnft::state {
namespace {

Ruleset with_fast_path(std::vector<std::string> devices) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"), *parse_cidr("10.244.1.0/24")};
  return desired_nft_ruleset(config, FastPath{std::move(devices), true});
}

TEST(TableSyncPlan, DevicesGoingAwayAreNeitherBoundNorUnbound) {
  // veth1 is gone but still listed by the kernel; veth3 is gone and was never bound.
  const Ruleset observed = with_handles(with_fast_path({"cni0", "veth1", "veth2"}));
  const Ruleset desired = with_fast_path({"cni0", "veth3"});
  const PlannableTables tables =
      leave_out_tables_owned_elsewhere(observed, {}, {kOwned[0]}, kOurPort);

  EXPECT_EQ(described(plan_table_sync(desired, tables).operations),
            (std::vector<std::string>{
                "delete flowtable ip flannel-nftd-ipv4 fastpath { devices = { veth1, veth2 }; }",
                "add flowtable ip flannel-nftd-ipv4 fastpath { hook ingress priority filter; "
                "devices = { veth3 }; counter; }"}));
  EXPECT_EQ(described(plan_table_sync(desired, tables, {"veth1", "veth3"}).operations),
            std::vector<std::string>{
                "delete flowtable ip flannel-nftd-ipv4 fastpath { devices = { veth2 }; }"});
  EXPECT_EQ(
      with_devices_as_found(desired, observed, {"veth1", "veth3"}).tables[0].flowtables[0].devices,
      (std::vector<std::string>{"cni0", "veth1"}));
}

}  // namespace
}  // namespace fnft::state
