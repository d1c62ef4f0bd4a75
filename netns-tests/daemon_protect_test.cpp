// --protect: the daemon holds its tables with `flags owner, persist`, so the kernel itself
// refuses every other process's change (the real `nft` here) while pod traffic flows; the
// tables outlive a killed daemon with their rules, and the next one takes them back without
// committing anything else; an unowned table is taken over under traffic without a lost
// packet; `cleanup` says who holds the tables while the daemon runs and removes them once it
// has stopped. On a kernel without the flags (before 6.9, as the project's 6.1 test kernel)
// `--protect=on` is fatal before anything is touched, and `auto` runs unprotected.
#include <gmock/gmock.h>
#include <signal.h>

#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/table_flags.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kStreamPort = 5320;

class DaemonProtectTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    protection_ = kernel_has_table_protection();
    RecordProperty("kernel_has_table_protection", protection_ ? "yes" : "no");
  }

  // Skips a test that needs the flags on a kernel without them (the adaptive test below
  // proves what the daemon does there).
  bool protection() const { return protection_; }

  std::optional<TableFlags> flags(Family family) const {
    const Addresses& a = addresses(family);
    return table_flags(node().node(), a.nft_family, a.table);
  }

  testing::AssertionResult held_by_the_daemon() const {
    for (const Family family : families(node().stack())) {
      const auto read = flags(family);
      if (!read) return testing::AssertionFailure() << addresses(family).table << " is missing";
      if (!read->owner || !read->persist) {
        return testing::AssertionFailure()
               << addresses(family).table << " has owner=" << read->owner
               << " persist=" << read->persist << report();
      }
    }
    return testing::AssertionSuccess();
  }

  // One datagram every 5 ms from pod 1 to the outside per family, each a new conntrack
  // entry that meets the masquerade rules and comes back only if masqueraded.
  void start_streams() {
    for (const Family family : families(node().stack())) {
      const Addresses& a = addresses(family);
      echoes_.push_back(node().spawn_in(
          node().outside(),
          probe({"echo-udp", a.outside, std::to_string(kStreamPort), "--timeout", "60"})));
      ASSERT_TRUE(echoes_.back().wait_for_stderr("ready", 5s)) << echoes_.back().describe();
      streams_.push_back(node().spawn_in(
          node().pod(0), probe({"udp-stream", a.outside, std::to_string(kStreamPort),
                                "--interval-ms", "5", "--timeout", "60"})));
      ASSERT_TRUE(streams_.back().wait_for_stderr("started", 5s))
          << streams_.back().describe() << report();
    }
  }

  void expect_no_packet_lost(const std::string& received) {
    for (auto& stream : streams_) {
      EXPECT_TRUE(stream.wait_for_stderr(received, 15s)) << stream.describe();
      const RunResult summary = stream.stop(SIGTERM);
      EXPECT_THAT(summary.out, HasSubstr(" lost 0")) << summary.describe() << report();
    }
  }

 private:
  bool protection_ = false;
  std::vector<BackgroundProcess> echoes_;
  std::vector<BackgroundProcess> streams_;
};

TEST_F(DaemonProtectTest, OnHoldsTheTablesOrIsFatalWhereTheKernelLacksTheFlags) {
  make_daemon_node(Stack::dual);
  if (protection()) {
    start_daemon({"--protect=on"});
    EXPECT_TRUE(held_by_the_daemon());
    EXPECT_THAT(daemon().log(), HasSubstr("protected by the kernel")) << report();
    return;
  }
  start_daemon({"--protect=on"}, /*wait_ready=*/false);
  EXPECT_EQ(daemon().process().wait_exit(10s), "exit 1") << report();
  EXPECT_THAT(daemon().log(), HasSubstr("--protect=on: this kernel cannot hold a table"))
      << report();
  EXPECT_EQ(node().ruleset(), "") << "nothing may be committed before the fatal check";
}

TEST_F(DaemonProtectTest, AutoRunsUnprotectedWhereTheKernelLacksTheFlags) {
  make_daemon_node(Stack::ipv4);
  start_daemon({"--protect=auto"});
  const auto read = flags(Family::ipv4);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->owner && read->persist, protection()) << report();
  EXPECT_EQ(daemon().log_lines("kernel lacks table protection").size(), protection() ? 0U : 1U)
      << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonProtectTest, EveryChangeByTheRealNftIsRefusedAndPodTrafficNeverStops) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::dual);
  start_daemon({"--protect=on"});
  start_streams();
  const Addresses& v4 = addresses(Family::ipv4);
  const std::string t4 = "ip " + v4.table;
  const std::string t6 = "ip6 " + addresses(Family::ipv6).table;
  const std::string handle = std::to_string(rule_handle(Family::ipv4, "forward from cluster"));
  const std::vector<std::string> refused = {
      "delete rule " + t4 + " forward handle " + handle,
      "flush chain " + t4 + " postrtg",
      "delete chain " + t4 + " forward",
      "delete table " + t4,
      "delete table " + t6,
      "insert rule " + t4 + " postrtg counter drop",
      "add chain " + t4 + " forward { type filter hook forward priority 0; policy drop; }",
      "replace rule " + t4 + " forward handle " + handle + " ip saddr " + v4.cluster +
          " counter drop comment \"forward from cluster\"",
      "add rule " + t4 + " forward ip saddr " + v4.cluster +
          " counter accept comment \"forward from cluster\"",
      "add chain " + t4 + " extra",
  };
  for (const auto& command : refused) {
    const RunResult result = node().run_in(node().node(), {"nft", "-f", "-"}, command + "\n");
    EXPECT_FALSE(result.ok()) << command << " was accepted\n" << result.describe();
    EXPECT_THAT(result.err, HasSubstr("Operation not permitted")) << command;
  }
  // `flush ruleset` succeeds: the kernel skips the tables it may not flush.
  EXPECT_TRUE(node().run_in(node().node(), {"nft", "flush", "ruleset"}).ok());
  EXPECT_TRUE(tables_become_desired(0ms));
  EXPECT_TRUE(held_by_the_daemon());
  expect_no_packet_lost("received 200");
  EXPECT_EQ(repairs_logged(), 0U) << "nothing was changed, so nothing was repaired\n" << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonProtectTest, AKilledDaemonLeavesItsRulesAndTheNextTakesThemBackCommittingNoMore) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::dual);
  start_daemon({"--protect=on"});
  daemon().process().signal(SIGKILL);
  ASSERT_EQ(daemon().process().wait_exit(5s), "signal 9") << report();
  // Orphaned: persist without an owner, every rule in place, pods still masqueraded.
  for (const Family family : families(node().stack())) {
    const auto read = flags(family);
    ASSERT_TRUE(read.has_value()) << addresses(family).table << " went with its owner";
    EXPECT_TRUE(read->persist && !read->owner) << addresses(family).table;
  }
  EXPECT_TRUE(tables_become_desired(0ms));
  EXPECT_TRUE(pod_egress_is_masqueraded());

  start_daemon({"--protect=on", "--log-level=debug"});
  EXPECT_TRUE(held_by_the_daemon());
  EXPECT_EQ(daemon()
                .log_lines("was left unowned (`flags persist`) by an owner that exited: taken back")
                .size(),
            2U)
      << report();
  // One claim per table and nothing else: no rule was added, flushed or deleted.
  EXPECT_THAT(daemon().log(), HasSubstr("start of the nftables mode: 2 change(s) committed"))
      << report();
  EXPECT_EQ(repairs_logged(), 0U) << report();
}

// `persist` outlives any owner, not only a flannel-nftd: a table another process claimed
// with it, and left empty when it exited, is taken over (the kernel adds no base chain while
// a table is taken back, so it is replaced), and the log does not blame a daemon.
TEST_F(DaemonProtectTest, ATableAnotherPersistOwnerLeftIsTakenBackWithoutBlamingADaemon) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::ipv4);
  nft({"add", "table", "ip", "flannel-nftd-ipv4"});  // own-table replaces it
  constexpr int kOwnedSeconds = 3;
  TrackedProcess owner(
      in_namespace(node().node(), {FNFT_COMMITTER_BINARY, "own-table", "ip", "flannel-nftd-ipv4",
                                   std::to_string(kOwnedSeconds), "persist"}),
      log_path("owner.log"));
  ASSERT_TRUE(eventually([&] { return owner.output().find("owned") != std::string::npos; }, 5s))
      << owner.describe();
  start_daemon({"--protect=on"}, /*wait_ready=*/false);
  ASSERT_EQ(owner.wait_exit(std::chrono::seconds(kOwnedSeconds + 5)), "exit 0") << owner.describe();
  const auto left = flags(Family::ipv4);
  ASSERT_TRUE(left && left->persist) << "the owner's table went with it: nothing to take back";
  EXPECT_TRUE(tables_become_desired(10s));
  EXPECT_TRUE(held_by_the_daemon());
  const auto taken =
      daemon().log_lines("was left unowned (`flags persist`) by an owner that exited");
  ASSERT_EQ(taken.size(), 1U) << report();
  EXPECT_THAT(taken.front(), HasSubstr("(deleted and re-created in the same transaction)"));
  EXPECT_THAT(daemon().log_lines("flannel-nftd that exited"), testing::IsEmpty()) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonProtectTest, AnUnownedTableIsTakenOverUnderTrafficWithoutALostPacket) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::dual);
  start_daemon({"--protect=off"});
  daemon().process().signal(SIGTERM);
  ASSERT_EQ(daemon().process().wait_exit(5s), "exit 0") << report();
  start_streams();
  start_daemon({"--protect=on"});
  EXPECT_EQ(daemon().log_lines("taken over with `flags owner, persist`").size(), 2U) << report();
  EXPECT_TRUE(held_by_the_daemon());
  expect_no_packet_lost("received 400");
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonProtectTest, CleanupNamesTheRunningDaemonAndRemovesTheTablesOnceItStopped) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::dual);
  start_daemon({"--protect=on"});
  const RunResult refused =
      node().run_in(node().node(), {FNFT_BINARY, "cleanup", "--mode=nftables"});
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_THAT(refused.err, HasSubstr("A running flannel-nftd holds it (--protect)"))
      << refused.describe();
  EXPECT_THAT(refused.err, HasSubstr("pid " + std::to_string(daemon().pid())))
      << refused.describe();
  EXPECT_TRUE(tables_become_desired(0ms));

  daemon().process().signal(SIGTERM);
  ASSERT_EQ(daemon().process().wait_exit(5s), "exit 0") << report();
  for (const Family family : families(node().stack())) {
    const auto read = flags(family);
    EXPECT_TRUE(read && read->persist && !read->owner) << addresses(family).table;
  }
  const RunResult cleaned =
      node().run_in(node().node(), {FNFT_BINARY, "cleanup", "--mode=nftables"});
  EXPECT_TRUE(cleaned.ok()) << cleaned.describe();
  for (const Family family : families(node().stack())) {
    EXPECT_FALSE(flags(family).has_value()) << addresses(family).table << " is still there";
  }
}

TEST_F(DaemonProtectTest, SwitchingToTheIptablesModeRemovesTheProtectedTables) {
  if (!protection()) GTEST_SKIP() << "the kernel lacks `flags owner, persist` (6.9+)";
  make_daemon_node(Stack::dual);
  start_daemon({"--protect=on", "--iptables-backend=nft"});
  replace_net_conf(/*nftables=*/false);
  EXPECT_TRUE(iptables_become_flanneld_rules("nft"));
  EXPECT_TRUE(eventually(
      [&] { return !flags(Family::ipv4).has_value() && !flags(Family::ipv6).has_value(); }, 10s))
      << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

}  // namespace
}  // namespace fnft::netns_test
