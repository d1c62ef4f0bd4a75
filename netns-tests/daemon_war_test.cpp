// The daemon under pressure: a process undoing it continuously (a repair war), and a flood
// of events that overflows its event socket while it is stopped (lost events).
#include <gmock/gmock.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWarSeconds = 10;
// RepairBudgetOptions::max_backoff: no repair waits longer than this, so the tables are whole
// again about a second after a war ends (it was 30 s: 3-11 s to recover after 10-40 s wars).
constexpr long kMaxBackoffMs = 1000;
// The budget's defaults (burst 20, 5/s) made small, so the war backs off early.
const std::vector<std::string> kSmallBudget = {"--repair-burst=5", "--repair-rate=2",
                                               "--log-level=debug"};
// RepairBudgetOptions::quiet_period: no repair for this long resets the backoff.
constexpr auto kQuietPeriod = 10s;
// Repairs the log reports at info level: those made while not backing off.
constexpr const char* kInfoRepair = " info repaired after ";

class DaemonWarTest : public DaemonTest {
 protected:
  void delete_masquerade_rule() {
    const auto handle = rule_handle(Family::ipv4, "cluster to outside: masquerade");
    nft({"delete", "rule", "ip", "flannel-nftd-ipv4", "postrtg", "handle", std::to_string(handle)});
  }

  // Stops the daemon, commits three `nft -f` transactions of 30000 rules each to another
  // table (90000 events, far beyond the event socket's 8 MiB) and deletes one of our
  // rules, then lets the daemon go on.
  void overflow_events_and_delete_a_rule() {
    constexpr int kRounds = 3;
    constexpr int kRulesPerRound = 30000;
    nft({"-f", "-"}, "add table ip fnft-flood\nadd chain ip fnft-flood c\n");
    daemon().process().signal(SIGSTOP);
    const auto started = Clock::now();
    for (int round = 0; round < kRounds; ++round) {
      const RunResult flood = node().run_in(node().node(), {"nft", "-f", "-"},
                                            flood_script(kRulesPerRound, round), 60s);
      if (!flood.ok()) daemon().process().signal(SIGCONT);
      ASSERT_TRUE(flood.ok()) << flood.describe().substr(0, 2000);
    }
    delete_masquerade_rule();
    std::printf(
        "[ flood    ] %d transactions of %d rule events in %.1f s while the daemon was "
        "stopped\n",
        kRounds, kRulesPerRound, std::chrono::duration<double>(Clock::now() - started).count());
    daemon().process().signal(SIGCONT);
  }

  // One transaction of `rules` rule additions to table ip fnft-flood.
  static std::string flood_script(int rules, int round) {
    std::string script;
    for (int i = 0; i < rules; ++i) {
      script += "add rule ip fnft-flood c ip saddr 198.18." + std::to_string(i / 250 % 256) + "." +
                std::to_string(i % 250 + 1) + " counter accept comment \"flood " +
                std::to_string(round) + " rule " + std::to_string(i) + " padding padding\"\n";
    }
    return script;
  }
};

TEST_F(DaemonWarTest, RepairWarIsThrottledAndNamesTheOtherProcess) {
  make_daemon_node(Stack::ipv4);
  start_daemon(kSmallBudget);
  const CpuTime cpu_before = daemon().process().cpu_time();
  const auto started = Clock::now();
  TrackedProcess loop(
      in_namespace(node().node(), {FNFT_COMMITTER_BINARY, "flush-loop", "ip", "flannel-nftd-ipv4",
                                   "postrtg", std::to_string(kWarSeconds)}),
      log_path("flush-loop.log"));
  // The daemon stays alive and keeps being scheduled through the war.
  while (loop.running() && Clock::now() - started < std::chrono::seconds(kWarSeconds + 10)) {
    ASSERT_TRUE(daemon().process().running()) << report();
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(loop.wait_exit(5s), "exit 0") << loop.describe();
  const auto war_over = Clock::now();
  const bool whole_again = tables_become_desired(10s);
  const double recovery_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - war_over).count();
  const double wall_ms = std::chrono::duration<double, std::milli>(war_over - started).count();
  const CpuTime cpu_after = daemon().process().cpu_time();
  const double cpu_ms = static_cast<double>((cpu_after.runtime - cpu_before.runtime).count()) / 1e6;
  const auto warnings = daemon().log_lines("repair war");
  std::printf(
      "[ war      ] %s; daemon: %zu repairs (%zu at info level), CPU %.1f ms over %.0f ms of "
      "war (%.2f%%)\n[ war      ] %s\n",
      loop.output().substr(0, loop.output().find('\n')).c_str(), repairs_logged(),
      daemon().log_lines(kInfoRepair).size(), cpu_ms, wall_ms, 100.0 * cpu_ms / wall_ms,
      warnings.empty() ? "(no warning)" : warnings.front().c_str());
  std::printf("[ war      ] tables whole again %.0f ms after the war ended\n", recovery_ms);
  EXPECT_TRUE(whole_again);
  // A generous bound: the budget keeps a war near 0.1% of a core; a spin would be near 100%.
  EXPECT_LT(cpu_ms, 0.25 * wall_ms) << "the war became a CPU spin\n" << report();
  // Every repair the war delayed waited at most the cap.
  static const std::regex delay(R"(next attempt \(.*\) in (-?[0-9]+) ms)");
  const auto delays = daemon().log_lines("next attempt (");
  EXPECT_FALSE(delays.empty()) << "the war never made the daemon wait\n" << report();
  long longest = 0;
  for (const auto& line : delays) {
    std::smatch match;
    if (std::regex_search(line, match, delay)) longest = std::max(longest, std::stol(match[1]));
  }
  std::printf("[ war      ] %zu delayed repairs, the longest wait %ld ms\n", delays.size(),
              longest);
  EXPECT_LE(longest, kMaxBackoffMs) << report();

  EXPECT_TRUE(daemon().wait_for_log(
      "repair war: nft_committer (pid " + std::to_string(loop.pid()) + ") keeps changing", 5s))
      << "no warning naming the loop's pid " << loop.pid() << "\n"
      << report();
  EXPECT_EQ(warnings.size(), 1U) << "one warning per minute at most\n" << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());

  // After a quiet period the backoff is reset: the next deletion is repaired at once, which
  // the log says at info level (repairs during a backoff are logged at debug).
  std::this_thread::sleep_for(kQuietPeriod + 1s);
  const std::size_t info_repairs = daemon().log_lines(kInfoRepair).size();
  delete_masquerade_rule();
  EXPECT_TRUE(eventually([&] { return daemon().log_lines(kInfoRepair).size() > info_repairs; }, 5s))
      << "no info-level repair: still backing off after " << kQuietPeriod.count()
      << " s without a repair\n"
      << report();
  EXPECT_TRUE(tables_become_desired());
}

TEST_F(DaemonWarTest, RepairsAfterLostEvents) {
  make_daemon_node(Stack::ipv4);
  start_daemon({"--log-level=debug"});
  overflow_events_and_delete_a_rule();
  if (HasFatalFailure()) return;

  EXPECT_TRUE(daemon().wait_for_log("lost nf_tables events (socket overrun)", 10s))
      << "the flood did not overflow the daemon's event socket\n"
      << report();
  EXPECT_TRUE(repair_logged("after lost nf_tables events (socket overrun)"));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

// Once a war is over (the quiet period passed), a repair made by a resync (lost events, the
// safety timer, SIGHUP) is visible at the default log level again: the backoff has ended for
// every path into the reconciler, not only for the next foreign commit.
TEST_F(DaemonWarTest, RepairAfterLostEventsIsLoggedAtInfoOnceAWarIsOver) {
  make_daemon_node(Stack::ipv4);
  start_daemon({"--repair-burst=1", "--repair-rate=0.1"});
  for (int i = 0; i < 3; ++i) {  // a short war: the second repair is already throttled
    nft({"flush", "chain", "ip", "flannel-nftd-ipv4", "forward"});
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(daemon().wait_for_log("repair war: nft (pid ", 5s)) << report();
  ASSERT_TRUE(tables_become_desired());
  std::this_thread::sleep_for(kQuietPeriod + 1s);

  overflow_events_and_delete_a_rule();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(daemon().wait_for_log("info repaired after lost nf_tables events", 5s))
      << "the repair was made but not logged at info level\n"
      << report();
}

}  // namespace
}  // namespace fnft::netns_test
