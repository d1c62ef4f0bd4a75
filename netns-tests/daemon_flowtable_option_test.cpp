// `--flowtable` on whatever kernel runs the suite: with flowtables (the project's 6.1 test
// kernel) the fast path is in place; without (many cloud kernels, and this suite's usual
// host) the daemon says so once, plainly, and keeps every other rule right; `required`
// makes a kernel without flowtables, or a mode without them, fatal before anything is
// touched. (netns_fast_path_tests proves the fast path itself with traffic.)
#include <gmock/gmock.h>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

constexpr const char* kNoFlowtables =
    "kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE): running without the fast path";

class DaemonFlowtableOptionTest : public DaemonTest {};

TEST_F(DaemonFlowtableOptionTest, RunsWithTheFastPathWhereTheKernelHasItAndSaysOnceWhereNot) {
  make_daemon_node(Stack::dual);
  const bool flowtables = kernel_has_flowtables();
  // start_daemon waits for the kernel to hold `dump`: with the flowtable where it can be.
  if (flowtables) set_dump_options({"--flowtable"});
  start_daemon({"--flowtable"});
  RecordProperty("kernel_has_flowtables", flowtables ? "yes" : "no");
  if (flowtables) {
    EXPECT_THAT(daemon().log_lines(kNoFlowtables), testing::IsEmpty()) << report();
    EXPECT_THAT(node().ruleset(), testing::HasSubstr("flow add @fastpath")) << report();
  } else {
    EXPECT_EQ(daemon().log_lines(kNoFlowtables).size(), 1U) << report();
    EXPECT_THAT(node().ruleset(), testing::Not(testing::HasSubstr("flowtable"))) << report();
  }
  // Repairs go on as ever, and the missing feature is not said again.
  nft({"flush", "ruleset"});
  EXPECT_TRUE(repair_logged("after nft (pid "));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_EQ(daemon().log_lines(kNoFlowtables).size(), flowtables ? 0U : 1U) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonFlowtableOptionTest, RequiredOnAKernelWithoutFlowtablesExitsOneTouchingNothing) {
  make_daemon_node(Stack::ipv4);
  if (kernel_has_flowtables()) {
    set_dump_options({"--flowtable"});
    start_daemon({"--flowtable=required"});
    EXPECT_TRUE(daemon().process().running()) << report();
    return;
  }
  start_daemon({"--flowtable=required"}, /*wait_ready=*/false);
  EXPECT_EQ(daemon().process().wait_exit(10s), "exit 1") << report();
  EXPECT_THAT(daemon().log(),
              testing::HasSubstr("kernel lacks flowtable support "
                                 "(CONFIG_NF_FLOW_TABLE) and --flowtable=required"));
  EXPECT_EQ(node().ruleset(), "") << "nothing may be committed before the fatal check";
}

TEST_F(DaemonFlowtableOptionTest, TheIptablesModeWarnsOnceAndRunsWithoutAFastPath) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  start_daemon({"--flowtable", "--iptables-backend=nft"});
  EXPECT_EQ(daemon().log_lines("mode has none (set EnableNFTables").size(),
            kernel_has_flowtables() ? 1U : 0U)
      << report();
  EXPECT_TRUE(iptables_holds_flanneld_rules("nft"));
  EXPECT_THAT(node().ruleset(), testing::Not(testing::HasSubstr("flowtable"))) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonFlowtableOptionTest, RequiredInTheIptablesModeExitsOne) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  start_daemon({"--flowtable=required", "--iptables-backend=nft"}, /*wait_ready=*/false);
  EXPECT_EQ(daemon().process().wait_exit(10s), "exit 1") << report();
  EXPECT_THAT(daemon().log(),
              testing::AnyOf(testing::HasSubstr("mode has none (set EnableNFTables"),
                             testing::HasSubstr("--flowtable=required")))
      << report();
}

}  // namespace
}  // namespace fnft::netns_test
