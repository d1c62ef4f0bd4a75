// The daemon's life around its rules: it starts before flanneld and waits for the lease,
// follows config changes live and keeps the rules through bad ones, restarts without a lost
// packet and without committing, and leaves the rules in place when it ends.
#include <gmock/gmock.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kStreamPort = 5310;

using DaemonLifecycleTest = DaemonTest;

// A node leaving flanneld's iptables mode: its FLANNEL-POSTRTG/FLANNEL-FWD chains would
// masquerade the same packets a second time, so `run` removes them (and only them) at start.
TEST_F(DaemonLifecycleTest, StartRemovesTheIptablesModesRulesAndNothingElse) {
  make_daemon_node(Stack::dual);
  for (const char* family : {"ipv4", "ipv6"}) {
    const RunResult payload = node().run_in(
        node().node(), {FNFT_BINARY, "dump", "--mode=iptables", "--family", family,
                        "--subnet-file=" + subnet_file(), "--net-config-path=" + net_conf_file()});
    ASSERT_TRUE(payload.ok()) << payload.describe();
    const std::string restore =
        std::string(family) == "ipv4" ? "iptables-nft-restore" : "ip6tables-nft-restore";
    node().run_in_checked(node().node(), {restore, "--noflush"}, payload.out);
  }
  node().run_in_checked(node().node(), {"iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-m",
                                        "comment", "--comment", "kube-test", "-j", "RETURN"});

  start_daemon();
  // Once our rules are in place, the other mode's go.
  EXPECT_TRUE(daemon().wait_for_log(
      "removed the iptables-nft mode's rules: iptables nat: delete chain FLANNEL-POSTRTG (6 rules)",
      10s))
      << report();
  EXPECT_TRUE(
      daemon().wait_for_log("removed the iptables-nft mode's rules: ip6tables filter: "
                            "delete chain FLANNEL-FWD (2 rules)",
                            10s))
      << report();
  for (const char* save : {"iptables-nft-save", "ip6tables-nft-save"}) {
    EXPECT_THAT(node().run_in_checked(node().node(), {save}).out, Not(HasSubstr("FLANNEL")))
        << report();
  }
  EXPECT_THAT(node().run_in_checked(node().node(), {"iptables-nft-save"}).out,
              HasSubstr("kube-test"));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

// The other mode's leftovers are found over netlink: an older flanneld's rule, its comment
// alone telling whose it is, straight in POSTROUTING, goes too.
TEST_F(DaemonLifecycleTest, StartRemovesAnOlderFlanneldsRuleThatHasOnlyItsComment) {
  make_daemon_node(Stack::ipv4);
  node().run_in_checked(
      node().node(), {"iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-s", "10.244.0.0/16", "-m",
                      "comment", "--comment", "flanneld masq", "-j", "MASQUERADE"});
  start_daemon();
  EXPECT_TRUE(
      daemon().wait_for_log("removed the iptables-nft mode's rules: iptables nat: delete "
                            "-A POSTROUTING -s 10.244.0.0/16",
                            10s))
      << report();
  EXPECT_THAT(node().run_in_checked(node().node(), {"iptables-nft-save"}).out,
              Not(HasSubstr("flanneld masq")));
}

// In the nftables mode nothing is learnt by running a program: start, the other modes'
// cleanup (found empty over netlink), repairs. Every execve of the daemon is traced.
TEST_F(DaemonLifecycleTest, TheNftablesModeRunsNoProgram) {
  make_daemon_node(Stack::dual);
  const std::string trace = log_path("execve.trace");
  // strace forks the daemon; setpriv makes the daemon die with it, so a failing test leaves
  // no daemon behind.
  set_daemon_wrapper(
      {"strace", "-f", "-qq", "-e", "trace=execve", "-o", trace, "setpriv", "--pdeathsig", "KILL"});
  start_daemon({"--protect=off"});
  nft({"flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"});
  ASSERT_TRUE(repair_logged("delrule ip flannel-nftd-ipv4 postrtg")) << report();
  nft({"delete", "table", "ip6", "flannel-nftd-ipv6"});
  ASSERT_TRUE(repair_logged("deltable ip6 flannel-nftd-ipv6", 2)) << report();
  ASSERT_TRUE(tables_become_desired()) << report();
  std::ifstream file(trace);
  const std::string traced((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
  std::vector<std::string> programs;
  for (const auto& line : lines_containing(traced, "execve(")) {
    const bool wrapper = line.find("setpriv\", [\"setpriv\"") != std::string::npos;
    const bool daemon =
        line.find(std::string("execve(\"") + FNFT_BINARY + "\"") != std::string::npos;
    if (!wrapper && !daemon) programs.push_back(line);
  }
  EXPECT_EQ(programs, std::vector<std::string>{}) << report();
  EXPECT_EQ(lines_containing(traced, std::string("execve(\"") + FNFT_BINARY).size(), 1U) << traced;
}

TEST_F(DaemonLifecycleTest, SigtermLeavesRulesInPlace) {
  make_daemon_node(Stack::dual);
  start_daemon();
  daemon().process().signal(SIGTERM);
  EXPECT_EQ(daemon().process().wait_exit(5s), "exit 0") << report();
  EXPECT_THAT(daemon().log(), HasSubstr("SIGTERM: exiting; the rules stay in place"));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonLifecycleTest, RestartUnderTrafficLosesNoPacket) {
  make_daemon_node(Stack::dual);
  start_daemon();
  // One datagram per socket every 5 ms from pod 1 to the outside, per family: each is a new
  // conntrack entry that meets the masquerade chain, and comes back only if masqueraded.
  std::vector<BackgroundProcess> echoes;
  std::vector<BackgroundProcess> streams;
  for (const Family family : families(node().stack())) {
    const Addresses& a = addresses(family);
    echoes.push_back(node().spawn_in(
        node().outside(),
        probe({"echo-udp", a.outside, std::to_string(kStreamPort), "--timeout", "60"})));
    ASSERT_TRUE(echoes.back().wait_for_stderr("ready", 5s)) << echoes.back().describe();
    streams.push_back(
        node().spawn_in(node().pod(0), probe({"udp-stream", a.outside, std::to_string(kStreamPort),
                                              "--interval-ms", "5", "--timeout", "60"})));
    ASSERT_TRUE(streams.back().wait_for_stderr("started", 5s))
        << streams.back().describe() << report();
  }

  daemon().process().signal(SIGKILL);
  ASSERT_EQ(daemon().process().wait_exit(5s), "signal 9") << report();
  start_daemon({"--log-level=debug"});

  for (auto& stream : streams) {
    // Stream on well past the new daemon's start ("received N" every 10 replies).
    EXPECT_TRUE(stream.wait_for_stderr("received 400", 15s)) << stream.describe();
    const RunResult summary = stream.stop(SIGTERM);
    EXPECT_THAT(summary.out, HasSubstr(" lost 0")) << summary.describe() << report();
  }
  EXPECT_THAT(daemon().log(),
              HasSubstr("start of the nftables mode: the kernel already holds the desired rules"))
      << report();
  EXPECT_THAT(daemon().log(), Not(HasSubstr("applied after"))) << report();
  EXPECT_EQ(repairs_logged(), 0U) << report();
}

struct LateFile {
  std::string name;
  std::string relative_path;  // of subnet.env, in the test's config directory
};

void PrintTo(const LateFile& file, std::ostream* out) {
  *out << file.relative_path;
}

std::string late_file_name(const testing::TestParamInfo<LateFile>& param) {
  return param.param.name;
}

class DaemonStartTest : public DaemonTest, public testing::WithParamInterface<LateFile> {};

TEST_P(DaemonStartTest, StartsBeforeFlanneldAndWaits) {
  make_daemon_node(Stack::ipv4);
  const std::filesystem::path late = config_dir() + "/" + GetParam().relative_path;
  set_subnet_file(late.string());
  start_daemon({}, /*wait_ready=*/false);

  ASSERT_TRUE(daemon().wait_for_log("waiting for a valid configuration", 10s)) << report();
  EXPECT_THAT(daemon().log(), HasSubstr(late.string() + ": no such file")) << report();
  // Give a wrongly eager daemon the time to install something before looking.
  std::this_thread::sleep_for(500ms);
  EXPECT_THAT(nft({"list", "tables"}).out, Not(HasSubstr("flannel"))) << report();
  EXPECT_TRUE(daemon().process().running()) << report();

  // flanneld starts: creates the directory if need be and writes the lease by rename.
  std::filesystem::create_directories(late.parent_path());
  const std::filesystem::path temporary = late.parent_path() / ".subnet.env.tmp";
  {
    std::ofstream out(temporary);
    out << subnet_env_text();
  }
  std::filesystem::rename(temporary, late);

  EXPECT_TRUE(
      daemon().wait_for_log("flannel rules in place (nftables mode); watching for changes", 10s))
      << report();
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

INSTANTIATE_TEST_SUITE_P(SubnetEnv, DaemonStartTest,
                         testing::Values(LateFile{"InAnExistingDirectory", "late-subnet.env"},
                                         LateFile{"InADirectoryNotYetCreated",
                                                  "run/flannel/subnet.env"}),
                         late_file_name);

TEST_F(DaemonLifecycleTest, ConfigChangeIsAppliedLive) {
  make_daemon_node(Stack::ipv4);
  start_daemon();

  // A new lease, written the way flanneld writes it.
  replace_subnet_env(subnet_env_text("10.244.7.1/24"));
  ASSERT_TRUE(
      daemon().wait_for_log("configuration changed: IPv4 network 10.244.0.0/16 lease "
                            "10.244.7.0/24",
                            10s))
      << report();
  ASSERT_TRUE(tables_become_desired());
  const std::string with_new_lease = flannel_tables();
  EXPECT_THAT(with_new_lease, HasSubstr("ip saddr 10.244.7.0/24 ip daddr 10.244.0.0/16"));
  EXPECT_THAT(with_new_lease, Not(HasSubstr("10.244.1.0/24")));
  // Pods of the old lease are still in the cluster network: still masqueraded to the outside.
  EXPECT_TRUE(pod_egress_is_masqueraded());

  // A malformed lease: reported with the file's name, the rules stay as they are.
  replace_subnet_env("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.9.1\n");
  ASSERT_TRUE(
      eventually([&] { return !daemon().log_lines("keeping the rules in place").empty(); }, 10s))
      << report();
  const auto errors = daemon().log_lines("keeping the rules in place");
  EXPECT_THAT(errors.front(), HasSubstr(" error "));
  EXPECT_THAT(errors.front(), HasSubstr(subnet_file() + ":2: FLANNEL_SUBNET"));
  EXPECT_EQ(flannel_tables(), with_new_lease) << report();

  // SIGHUP reads the files again: the same error, now because of the SIGHUP.
  daemon().process().signal(SIGHUP);
  EXPECT_TRUE(daemon().wait_for_log("(SIGHUP); keeping the rules in place", 10s)) << report();
  EXPECT_EQ(flannel_tables(), with_new_lease) << report();
  EXPECT_TRUE(daemon().process().running()) << report();

  // The original lease again.
  replace_subnet_env(subnet_env_text());
  EXPECT_TRUE(
      daemon().wait_for_log("configuration changed: IPv4 network 10.244.0.0/16 lease "
                            "10.244.1.0/24",
                            10s))
      << report();
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

}  // namespace
}  // namespace fnft::netns_test
