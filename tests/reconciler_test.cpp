// The reconciler against a scripted backend: what each trigger applies, what is coalesced,
// how failures are retried, and when the node counts as in sync.
#include "daemon/core/reconciler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fake_backend.hpp"

namespace fnft::daemon {
namespace {

using fakes::FakeBackend;
using ::testing::HasSubstr;

constexpr std::uint32_t kOurPort = 1000;
const state::OwnedTable kIpv4{state::Family::ipv4, "flannel-nftd-ipv4"};
const state::OwnedTable kIpv6{state::Family::ipv6, "flannel-nftd-ipv6"};

state::Target target(int lease = 1) {
  state::Target target;
  target.config.ipv4 =
      state::FamilyNetworks{*state::parse_cidr("10.244.0.0/16"),
                            *state::parse_cidr("10.244." + std::to_string(lease) + ".0/24")};
  return target;
}

netlink::NftTransaction foreign(std::vector<state::OwnedTable> touched, std::uint32_t port = 77) {
  netlink::NftTransaction transaction;
  transaction.portid = port;
  transaction.pid = 4242;
  transaction.process_name = "nft";
  transaction.touched_owned = true;
  transaction.touched_tables = std::move(touched);
  transaction.touched = {"delrule ip flannel-nftd-ipv4 postrtg"};
  return transaction;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  explicit ReconcilerTest(state::RepairBudgetOptions budget = {})
      : reconciler_(
            io_,
            [](const netlink::NftTransaction& transaction) {
              return transaction.portid == kOurPort;
            },
            Reconciler::Options{budget, std::chrono::seconds(60)}) {}

  // Runs the reactor until `done` holds, for at most 10 s (a timer the reconciler set).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  boost::asio::io_context io_;
  FakeBackend backend_;
  Reconciler reconciler_;
};

TEST_F(ReconcilerTest, ATargetIsAppliedAtOnceAndThenInSync) {
  reconciler_.set_target(backend_, target(), "start of the nftables mode");
  ASSERT_EQ(backend_.applies().size(), 1u);
  EXPECT_TRUE(backend_.applies()[0].scope.empty()) << "a start reads every table";
  EXPECT_EQ(backend_.applies()[0].target, target());
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());
  EXPECT_EQ(reconciler_.stats().repairs, 0u) << "our own start is no repair";
}

TEST_F(ReconcilerTest, TheAfterCommitHookSeesEachLandedCommitAndNothingElse) {
  std::vector<bool> seen;  // masquerade_changed of each commit the hook ran after
  reconciler_.after_commit([&](const std::string& /*reason*/, const BackendResult& commit) {
    seen.push_back(commit.masquerade_changed);
  });
  BackendResult masquerade;
  masquerade.committed = true;
  masquerade.masquerade_changed = true;
  masquerade.changes = {"add rule ip flannel-nftd-ipv4 postrtg ..."};
  BackendResult forward;
  forward.committed = true;
  forward.changes = {"add rule ip flannel-nftd-ipv4 forward ..."};
  BackendResult nothing;  // the kernel already held the rules
  BackendResult refused;
  refused.error = "Operation not permitted";
  backend_.results = {masquerade, forward, nothing, refused};
  reconciler_.set_target(backend_, target());
  reconciler_.transactions({foreign({kIpv4})});
  reconciler_.transactions({foreign({kIpv4})});
  reconciler_.transactions({foreign({kIpv4})});
  EXPECT_EQ(seen, (std::vector<bool>{true, false}));
}

TEST_F(ReconcilerTest, AForeignCommitIsRepairedInTheTablesItTouchedOnly) {
  reconciler_.set_target(backend_, target());
  reconciler_.transactions({foreign({kIpv6})});
  ASSERT_EQ(backend_.applies().size(), 2u);
  EXPECT_EQ(backend_.applies()[1].scope, std::vector<state::OwnedTable>{kIpv6});
  EXPECT_EQ(reconciler_.stats().repairs, 1u);
  EXPECT_EQ(reconciler_.stats().foreign_transactions, 1u);
  ASSERT_EQ(reconciler_.recent_repairs().size(), 1u);
  EXPECT_THAT(reconciler_.recent_repairs()[0].cause, HasSubstr("nft (pid 4242)"));
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());

  // A commit whose tables cannot be told reads them all.
  netlink::NftTransaction unattributed = foreign({});
  reconciler_.transactions({unattributed});
  ASSERT_EQ(backend_.applies().size(), 3u);
  EXPECT_TRUE(backend_.applies()[2].scope.empty());
}

TEST_F(ReconcilerTest, OurOwnAndUnrelatedCommitsApplyNothingButTheBackendHearsOfAll) {
  reconciler_.set_target(backend_, target());
  netlink::NftTransaction unrelated = foreign({});
  unrelated.touched_owned = false;
  reconciler_.transactions({foreign({kIpv4}, kOurPort), unrelated});
  EXPECT_EQ(backend_.applies().size(), 1u);
  EXPECT_EQ(backend_.noted().size(), 2u);
  EXPECT_EQ(reconciler_.stats().unrelated_transactions, 1u);
  EXPECT_EQ(reconciler_.stats().foreign_transactions, 0u);
}

TEST_F(ReconcilerTest, TheBackendHearsOfEveryCommitBeforeTheRepairItCauses) {
  reconciler_.set_target(backend_, target());
  reconciler_.transactions({foreign({kIpv4}), foreign({kIpv4})});
  ASSERT_EQ(backend_.applies().size(), 2u) << "one burst, one repair";
  EXPECT_EQ(backend_.applies()[1].transactions_noted, 2u);
}

TEST_F(ReconcilerTest, WhatArrivesDuringAnApplyBecomesOneApplyOverEverythingAfterIt) {
  backend_.hold();
  reconciler_.set_target(backend_, target());
  for (int i = 0; i < 3; ++i) reconciler_.transactions({foreign({kIpv4})});
  reconciler_.resync("the safety timer");
  EXPECT_EQ(backend_.applies().size(), 1u);
  EXPECT_FALSE(reconciler_.in_sync_since().has_value());
  backend_.release();  // the start completes; the queued repair starts, held too
  ASSERT_EQ(backend_.applies().size(), 2u);
  EXPECT_TRUE(backend_.applies()[1].scope.empty());
  backend_.release();
  EXPECT_EQ(backend_.applies().size(), 2u);
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());
}

TEST_F(ReconcilerTest, AConfigChangeIsNotLostBehindAQueuedRepair) {
  backend_.hold();
  reconciler_.set_target(backend_, target(1));
  reconciler_.transactions({foreign({kIpv4})});
  reconciler_.set_target(backend_, target(7), "configuration");
  reconciler_.transactions({foreign({kIpv4})});
  backend_.release();
  ASSERT_EQ(backend_.applies().size(), 2u);
  EXPECT_EQ(backend_.applies()[1].target, target(7));
  backend_.release();
  EXPECT_EQ(backend_.applies().size(), 2u);
}

TEST_F(ReconcilerTest, AFailedApplyIsRetriedUntilItSucceeds) {
  BackendResult refused;
  refused.error = "table ip flannel-nftd-ipv4 is owned by another process";
  backend_.results = {refused, refused};
  reconciler_.set_target(backend_, target());
  ASSERT_TRUE(reconciler_.failing().has_value());
  EXPECT_THAT(*reconciler_.failing(), HasSubstr("owned by another process"));
  EXPECT_FALSE(reconciler_.in_sync_since().has_value());
  // Retried on a timer (0.25 s, then 0.5 s): no event is needed for it.
  ASSERT_TRUE(run_until([&] { return backend_.applies().size() == 3; }));
  EXPECT_EQ(reconciler_.stats().failures, 2u);
  EXPECT_FALSE(reconciler_.failing().has_value());
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());
}

TEST_F(ReconcilerTest, AnApplyThatFindsTheKernelChangedIsOutOfSyncBeforeItEnds) {
  reconciler_.set_target(backend_, target());
  ASSERT_TRUE(reconciler_.in_sync_since().has_value());
  backend_.hold();
  backend_.diverge_on_apply = true;
  reconciler_.resync("the iptables-legacy poll");
  EXPECT_EQ(backend_.known_state_forgotten(), 1u);
  EXPECT_FALSE(reconciler_.in_sync_since().has_value());
  backend_.release();
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());
}

class ReconcilerWarTest : public ReconcilerTest {
 protected:
  ReconcilerWarTest()
      : ReconcilerTest(state::RepairBudgetOptions{2, 0.001, std::chrono::milliseconds(100),
                                                  std::chrono::milliseconds(200),
                                                  std::chrono::milliseconds(10'000)}) {}
};

TEST_F(ReconcilerWarTest, RepairsBeyondTheBurstWaitAndTheLastOneStillLands) {
  reconciler_.set_target(backend_, target());
  for (int i = 0; i < 5; ++i) reconciler_.transactions({foreign({kIpv4})});
  EXPECT_EQ(backend_.applies().size(), 3u) << "the start and a burst of two";
  EXPECT_TRUE(reconciler_.backing_off());
  EXPECT_FALSE(reconciler_.in_sync_since().has_value());
  ASSERT_TRUE(run_until([&] { return backend_.applies().size() == 4; }));
  EXPECT_TRUE(reconciler_.in_sync_since().has_value());
  EXPECT_EQ(reconciler_.stats().repairs, 3u);
}

}  // namespace
}  // namespace fnft::daemon
