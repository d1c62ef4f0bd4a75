// Other components' commits to their own tables cost the daemon a decode and nothing else:
// kube-proxy-like iptables-nft rules, and thousands of transactions by another process.
// "Nothing else" is read from the log: no "repaired" line until a sentinel change of ours,
// which the daemon sees after everything before it on the same event socket.
#include <gmock/gmock.h>

#include <cstdio>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kChurnTransactions = 5000;

class DaemonCoexistenceTest : public DaemonTest {
 protected:
  // Deletes our IPv4 masquerade rule and waits for its repair: every event before it has been
  // handled by then. Expects it to be the daemon's only repair.
  void expect_sentinel_is_the_only_repair() {
    const auto handle = rule_handle(Family::ipv4, "cluster to outside: masquerade");
    nft({"delete", "rule", "ip", "flannel-nftd-ipv4", "postrtg", "handle", std::to_string(handle)});
    ASSERT_TRUE(repair_logged("delrule ip flannel-nftd-ipv4 postrtg"));
    EXPECT_EQ(repairs_logged(), 1U) << "repairs other than the sentinel's:\n" << report();
    EXPECT_TRUE(tables_become_desired());
  }

  // The daemon's CPU time once it stopped moving for 100 ms: its event queue is drained.
  CpuTime settled_cpu_time() {
    CpuTime previous = daemon().process().cpu_time();
    eventually(
        [&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(80));
          const CpuTime now = daemon().process().cpu_time();
          const bool settled = now.runtime == previous.runtime;
          previous = now;
          return settled;
        },
        10s);
    return previous;
  }
};

// kube-proxy's iptables mode on an nft-based iptables: tables ip/ip6 nat and filter with
// chains and jumps from the built-in chains, then flushed and removed again.
TEST_F(DaemonCoexistenceTest, IptablesNftRulesOfKubeProxyCauseNoRepair) {
  make_daemon_node(Stack::dual);
  start_daemon();
  const std::string desired = desired_tables();
  const std::vector<std::vector<std::string>> commands = {
      {"-t", "nat", "-N", "KUBE-POSTROUTING"},
      {"-t", "nat", "-A", "KUBE-POSTROUTING", "-m", "mark", "--mark", "0x4000/0x4000", "-j",
       "MASQUERADE", "--random-fully"},
      {"-t", "nat", "-A", "POSTROUTING", "-m", "comment", "--comment",
       "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING"},
      {"-t", "filter", "-N", "KUBE-FORWARD"},
      {"-t", "filter", "-A", "KUBE-FORWARD", "-m", "mark", "--mark", "0x4000/0x4000", "-j",
       "ACCEPT"},
      {"-t", "filter", "-I", "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules",
       "-j", "KUBE-FORWARD"},
      {"-t", "nat", "-F"},
      {"-t", "nat", "-X"},
      {"-t", "filter", "-F"},
      {"-t", "filter", "-X"},
      {"-t", "nat", "-A", "POSTROUTING", "-m", "comment", "--comment", "kube-test", "-j", "RETURN"},
  };
  for (const char* tool : {"iptables-nft", "ip6tables-nft"}) {
    for (auto command : commands) {
      command.insert(command.begin(), tool);
      node().run_in_checked(node().node(), command);
      ASSERT_EQ(flannel_tables(), desired) << "after " << tool << " ...\n" << report();
    }
  }
  expect_sentinel_is_the_only_repair();
  EXPECT_TRUE(pod_egress_is_masqueraded());
  // And the daemon left iptables-nft's tables alone.
  for (const char* save : {"iptables-nft-save", "ip6tables-nft-save"}) {
    EXPECT_THAT(node().run_in_checked(node().node(), {save}).out, testing::HasSubstr("kube-test"))
        << report();
  }
}

TEST_F(DaemonCoexistenceTest, ChurnOnOtherTablesCausesNoRepair) {
  make_daemon_node(Stack::ipv4);
  start_daemon({"--log-level=debug"});
  const CpuTime before = settled_cpu_time();
  const auto started = std::chrono::steady_clock::now();
  const RunResult churn = node().run_in(
      node().node(), {FNFT_COMMITTER_BINARY, "churn", std::to_string(kChurnTransactions)}, {}, 60s);
  ASSERT_TRUE(churn.ok()) << churn.describe();
  const CpuTime after = settled_cpu_time();
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

  const double per_thousand = 1000.0 / kChurnTransactions;
  std::printf(
      "[ churn    ] %d foreign transactions (%s); daemon CPU per 1000 transactions: "
      "%.2f ms (schedstat), %.0f ms (utime+stime, %ld Hz ticks); wall %.0f ms; "
      "lost-event resyncs: %zu\n",
      kChurnTransactions, churn.out.substr(0, churn.out.find('\n')).c_str(),
      static_cast<double>((after.runtime - before.runtime).count()) / 1e6 * per_thousand,
      static_cast<double>((after.user_plus_system - before.user_plus_system).count()) / 1e3 *
          per_thousand,
      ::sysconf(_SC_CLK_TCK), wall_ms, daemon().log_lines("lost nf_tables events").size());
  // schedstat is finer, but kernels without CONFIG_SCHEDSTATS (the test kernel) show 0 there.
  EXPECT_TRUE(after.runtime > before.runtime || after.user_plus_system > before.user_plus_system)
      << "the daemon did not even read the events";

  expect_sentinel_is_the_only_repair();
  EXPECT_EQ(daemon().log_lines("applied after").size(), 1U) << "only the start-up apply\n"
                                                            << report();
}

}  // namespace
}  // namespace fnft::netns_test
