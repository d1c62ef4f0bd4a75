// NftTableSync's dump-plan-commit cycle over a fake kernel: retries on a stale plan, the
// unconditional fallback, one batch per family, tables owned elsewhere, the known-state path.
#include "netlink/nft_table_sync.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "state/desired_ruleset.hpp"
#include "tests/fake_nft_kernel.hpp"

namespace fnft::netlink {
namespace {

using fakes::FakeNftKernel;
using ::testing::HasSubstr;

state::Ruleset desired(bool ipv6 = true) {
  state::NodeConfig config;
  config.ipv4 = state::FamilyNetworks{*state::parse_cidr("10.244.0.0/16"),
                                      *state::parse_cidr("10.244.1.0/24")};
  if (ipv6) {
    config.ipv6 = state::FamilyNetworks{*state::parse_cidr("fd00:10:244::/56"),
                                        *state::parse_cidr("fd00:10:244:1::/64")};
  }
  return state::desired_nft_ruleset(config);
}

// A table of someone else's, which commits elsewhere change.
void touch_other_table(state::Ruleset& tables) {
  for (auto& table : tables.tables) {
    if (table.name != "kube-proxy") continue;
    table.chains.push_back(state::Chain{"c" + std::to_string(table.chains.size()), {}, {}});
    return;
  }
  tables.tables.push_back(state::Table{state::Family::ipv4, "kube-proxy", {}, {}, {}});
}

::testing::AssertionResult holds(const FakeNftKernel& kernel, const state::Ruleset& want) {
  for (const auto& table : want.tables) {
    const auto* have = kernel.tables.find_table(table.family, table.name);
    if (have == nullptr || !(*have == table))
      return ::testing::AssertionFailure() << "table " << table.name << " differs";
  }
  return ::testing::AssertionSuccess();
}

class NftTableSyncTest : public ::testing::Test {
 protected:
  FakeNftKernel kernel_;
  NftTableSync sync_{kernel_};
};

TEST_F(NftTableSyncTest, AnEmptyKernelGetsOneBatchPerFamilyEachOnTheLastOnesGeneration) {
  const ApplyResult result = sync_.apply(desired());
  EXPECT_TRUE(result.committed);
  ASSERT_EQ(kernel_.commits().size(), 2u);
  EXPECT_EQ(kernel_.commits()[0].generation, 100u);
  EXPECT_EQ(kernel_.commits()[1].generation, 101u) << "no second dump to learn it";
  EXPECT_EQ(kernel_.dumps(), 1u);
  EXPECT_EQ(result.generation_before, 100u);
  EXPECT_EQ(result.generation_after, 102u);
  EXPECT_TRUE(holds(kernel_, desired()));

  const ApplyResult again = sync_.apply(desired());
  EXPECT_FALSE(again.committed);
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(kernel_.commits().size(), 2u) << "an equal kernel is sent nothing";
}

TEST_F(NftTableSyncTest, APlanMadeStaleByAnotherCommitIsMadeAgainFromAFreshDump) {
  kernel_.before_commit = [](FakeNftKernel& kernel) {
    if (kernel.commits().size() == 1) kernel.commit_elsewhere(touch_other_table);
  };
  const ApplyResult result = sync_.apply(desired(false));
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(kernel_.dumps(), 2u);
  ASSERT_EQ(kernel_.commits().size(), 2u);
  EXPECT_FALSE(kernel_.commits()[0].landed);
  EXPECT_TRUE(kernel_.commits()[1].landed);
  EXPECT_TRUE(holds(kernel_, desired(false)));
}

TEST_F(NftTableSyncTest, UnderChurnElsewhereTheThirdBatchGoesWithoutTheCondition) {
  kernel_.before_commit = [](FakeNftKernel& kernel) { kernel.commit_elsewhere(touch_other_table); };
  const ApplyResult result = sync_.apply(desired(false));
  EXPECT_TRUE(result.committed);
  EXPECT_EQ(result.attempts, 3);
  ASSERT_EQ(kernel_.commits().size(), 3u);
  EXPECT_TRUE(kernel_.commits()[0].generation.has_value());
  EXPECT_TRUE(kernel_.commits()[1].generation.has_value());
  EXPECT_FALSE(kernel_.commits()[2].generation.has_value());
  EXPECT_FALSE(result.generation_after.has_value()) << "an unconditional commit names none";
  EXPECT_TRUE(holds(kernel_, desired(false)));
}

TEST_F(NftTableSyncTest, FiveStaleRoundsAreAnErrorThatSaysWhy) {
  kernel_.refuse_next = {ERESTART, ERESTART, ERESTART, ERESTART, ERESTART};
  try {
    sync_.apply(desired(false));
    ADD_FAILURE() << "applied";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.error_code(), ERESTART);
    EXPECT_THAT(error.what(), HasSubstr("changed between dump and commit 5 times in a row"));
  }
  EXPECT_EQ(kernel_.dumps(), 5u);
}

TEST_F(NftTableSyncTest, AFamilyTheKernelRefusesKeepsNoOtherFromItsRules) {
  kernel_.refuse_next = {EPERM};  // the IPv4 batch
  const ApplyResult result = sync_.apply(desired());
  EXPECT_TRUE(result.committed);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].error_code(), EPERM);
  EXPECT_EQ(kernel_.tables.find_table(state::Family::ipv4, "flannel-nftd-ipv4"), nullptr);
  EXPECT_NE(kernel_.tables.find_table(state::Family::ipv6, "flannel-nftd-ipv6"), nullptr);

  FakeNftKernel single;
  single.refuse_next = {EPERM};
  NftTableSync only_ipv4(single);
  EXPECT_THROW(only_ipv4.apply(desired(false)), NetlinkError) << "nothing landed: thrown";
}

TEST_F(NftTableSyncTest, ATableOwnedElsewhereIsLeftOutNamingItsPort) {
  kernel_.tables = desired();
  kernel_.tables.tables[0].chains[0].rules.clear();  // not ours to repair while it is owned
  kernel_.tables.tables[1].chains[0].rules.clear();
  kernel_.unmodeled = {{state::Family::ipv4, "flannel-nftd-ipv4", {"flags owner"}, 4321}};
  const ApplyResult result = sync_.apply(desired());
  EXPECT_TRUE(result.committed);
  ASSERT_EQ(kernel_.commits().size(), 1u);
  EXPECT_EQ(kernel_.commits()[0].operations.front().family, state::Family::ipv6);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].error_code(), EPERM);
  EXPECT_THAT(result.failures[0].what(),
              HasSubstr("table ip flannel-nftd-ipv4 is owned by another process (`flags owner`, "
                        "netlink port 4321)"));

  // With nothing else to commit the refusal is the answer.
  try {
    sync_.apply(desired());
    ADD_FAILURE() << "applied";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.error_code(), EPERM);
  }
  EXPECT_EQ(kernel_.commits().size(), 1u);
}

TEST_F(NftTableSyncTest, TheKnownStatePathCommitsAtOnceOnTheCommitsOwnGeneration) {
  sync_.apply(desired(false));
  state::Ruleset known = kernel_.tables;
  kernel_.commit_elsewhere([](state::Ruleset& tables) {
    tables.tables[0].chains[0].rules.erase(tables.tables[0].chains[0].rules.begin());
  });
  known.tables[0].chains[0].rules.erase(known.tables[0].chains[0].rules.begin());
  const std::size_t dumps = kernel_.dumps();
  const ApplyResult repaired =
      sync_.apply_known(desired(false), known, kernel_.generation, sync_.owned_tables());
  EXPECT_TRUE(repaired.committed);
  EXPECT_EQ(kernel_.dumps(), dumps) << "no dump first";
  EXPECT_TRUE(holds(kernel_, desired(false)));

  // Known state that went stale is refused, for the caller to read the tables.
  kernel_.commit_elsewhere(touch_other_table);
  EXPECT_THROW(
      sync_.apply_known(desired(false), known, kernel_.generation - 1, sync_.owned_tables()),
      NetlinkError);
}

}  // namespace
}  // namespace fnft::netlink
