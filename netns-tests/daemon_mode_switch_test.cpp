// Moving between the modes and taking over what others left: a live switch nftables ->
// iptables -> nftables under traffic (the new mode's rules first, then the old one's gone),
// upstream flanneld's rules and its half-cleaned leftovers in both iptables backends, the
// warning for kube-proxy's or flannel's chains in the iptables not in use, the automatic
// choice of backend, and `cleanup --mode=all`.
#include <gmock/gmock.h>
#include <signal.h>

#include <filesystem>

#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kUdpPort = 5320;
constexpr int kTcpPort = 5321;

std::string last_line(const std::string& text) {
  const auto lines = lines_containing(text, "");
  return lines.empty() ? std::string() : lines.back();
}

class DaemonModeTest : public DaemonTest {
 protected:
  // `payload` into `backend`'s iptables of `family` with iptables-restore --noflush.
  void restore(const std::string& backend, Family family, const std::string& payload) const {
    node().run_in_checked(node().node(), {iptables_tool(backend, family, "-restore"), "--noflush"},
                          payload);
  }

  // flanneld's own iptables rules for `family`, as its iptables mode leaves them.
  std::string flanneld_payload(Family family) const {
    return node()
        .run_in_checked(node().node(),
                        {FNFT_BINARY, "dump", "--mode=iptables",
                         family == Family::ipv4 ? "--family=ipv4" : "--family=ipv6",
                         "--subnet-file=" + subnet_file(), "--net-config-path=" + net_conf_file()})
        .out;
  }

  // One of the daemon's tables, flannel-nftd-ipv4 / -ipv6.
  bool has_flannel_table() const {
    return nft({"list", "tables"}).out.find("flannel-nftd") != std::string::npos;
  }
};

// Every family: one long-lived TCP connection and a stream of new UDP flows from a pod to
// the outside, which answers only what was masqueraded.
class PodTraffic {
 public:
  PodTraffic(const FlannelNode& node) {
    for (const Family family : families(node.stack())) {
      const Addresses& a = addresses(family);
      servers_.push_back(node.spawn_in(
          node.outside(),
          probe({"echo-udp", a.outside, std::to_string(kUdpPort), "--timeout", "90"})));
      servers_.back().wait_for_stderr("ready", 5s);
      servers_.push_back(node.spawn_in(
          node.outside(),
          probe({"echo-tcp", a.outside, std::to_string(kTcpPort), "--timeout", "90"})));
      servers_.back().wait_for_stderr("ready", 5s);
      streams_.push_back(
          node.spawn_in(node.pod(0), probe({"udp-stream", a.outside, std::to_string(kUdpPort),
                                            "--interval-ms", "5", "--timeout", "90"})));
      streams_.push_back(
          node.spawn_in(node.pod(0), probe({"tcp-stream", a.outside, std::to_string(kTcpPort),
                                            "--interval-ms", "10", "--timeout", "90"})));
    }
    for (auto& stream : streams_) started_ &= stream.wait_for_stderr("started", 5s);
  }

  bool started() const { return started_; }

  // Stops every stream; the summaries ("sent S received R lost L", "rounds R late L broken B").
  std::vector<RunResult> stop() {
    std::vector<RunResult> summaries;
    for (auto& stream : streams_) summaries.push_back(stream.stop(SIGTERM));
    return summaries;
  }

 private:
  std::vector<BackgroundProcess> servers_;
  std::vector<BackgroundProcess> streams_;
  bool started_ = true;
};

class DaemonModeSwitchTest : public DaemonModeTest,
                             public testing::WithParamInterface<std::string> {};

TEST_P(DaemonModeSwitchTest, SwitchesNftablesToIptablesAndBackLiveWithoutATrafficGap) {
  const std::string backend = GetParam();
  make_daemon_node(Stack::dual, /*nftables=*/true);
  start_daemon({"--iptables-backend=" + backend, "--iptables-resync=0.5"});
  PodTraffic traffic(node());
  ASSERT_TRUE(traffic.started()) << report();
  std::this_thread::sleep_for(300ms);

  replace_net_conf(/*nftables=*/false);
  ASSERT_TRUE(daemon().wait_for_log("switching to the iptables-" + backend + " mode", 10s))
      << report();
  EXPECT_TRUE(daemon().wait_for_log(
      "removed the nftables mode's rules: delete table ip6 flannel-nftd-ipv6", 10s))
      << report();
  EXPECT_TRUE(iptables_become_flanneld_rules(backend));
  EXPECT_FALSE(has_flannel_table()) << report();
  std::this_thread::sleep_for(300ms);

  replace_net_conf(/*nftables=*/true);
  ASSERT_TRUE(daemon().wait_for_log("switching to the nftables mode", 10s)) << report();
  EXPECT_TRUE(daemon().wait_for_log("removed the iptables-" + backend +
                                        " mode's rules: ip6tables filter: delete chain FLANNEL-FWD",
                                    10s))
      << report();
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(iptables_holds_no_flanneld_rules(backend));
  std::this_thread::sleep_for(300ms);

  for (const auto& summary : traffic.stop()) {
    std::printf("[ switch   ] %s\n", last_line(summary.out).c_str());
    EXPECT_THAT(summary.out,
                testing::AnyOf(HasSubstr(" lost 0\n"), HasSubstr(" late 0 broken 0\n")))
        << summary.describe() << report();
  }
}

std::string backend_name(const testing::TestParamInfo<std::string>& info) {
  return info.param;
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonModeSwitchTest, testing::Values("nft", "legacy"),
                         backend_name);

class DaemonTakeoverTest : public DaemonModeTest,
                           public testing::WithParamInterface<std::string> {};

// A node that ran flanneld's iptables mode: the same rules, so nothing is committed, and no
// packet is lost while the daemon takes over.
TEST_P(DaemonTakeoverTest, TakesOverUpstreamFlanneldsIptablesRulesWithoutCommitting) {
  const std::string backend = GetParam();
  make_daemon_node(Stack::dual, /*nftables=*/false);
  for (const Family family : families(Stack::dual))
    restore(backend, family, flanneld_payload(family));
  PodTraffic traffic(node());
  ASSERT_TRUE(traffic.started()) << report();
  start_daemon({"--iptables-backend=" + backend, "--log-level=debug"});
  EXPECT_TRUE(iptables_become_flanneld_rules(backend));
  EXPECT_THAT(daemon().log(), HasSubstr("start of the iptables-" + backend +
                                        " mode: the kernel already holds the desired rules"))
      << report();
  EXPECT_THAT(daemon().log(), Not(HasSubstr("applied after"))) << report();
  std::this_thread::sleep_for(500ms);
  for (const auto& summary : traffic.stop()) {
    EXPECT_THAT(summary.out,
                testing::AnyOf(HasSubstr(" lost 0\n"), HasSubstr(" late 0 broken 0\n")))
        << summary.describe() << report();
  }
}

// What upstream flanneld's own cleanup leaves, in both iptables at once: a jump to a chain
// it flushed but could not delete, a chain without its jump, FLANNEL-FWD in nat (where its
// cleanup looks for it), and an older flanneld's rule straight in POSTROUTING.
TEST_F(DaemonModeTest, TheNftablesModeRemovesEveryHalfCleanedStateUpstreamLeaves) {
  make_daemon_node(Stack::dual, /*nftables=*/true);
  for (const std::string backend : {"nft", "legacy"}) {
    for (const Family family : families(Stack::dual)) {
      const std::string cluster = addresses(family).cluster;
      restore(backend, family,
              "*nat\n:FLANNEL-POSTRTG - [0:0]\n:FLANNEL-FWD - [0:0]\n"
              "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
              "-A POSTROUTING -s " +
                  cluster + " -d " + cluster +
                  " -m comment --comment \"flanneld masq\" -j RETURN\n"
                  "-A POSTROUTING -m comment --comment \"kube-test\" -j RETURN\n"
                  "COMMIT\n*filter\n:FLANNEL-FWD - [0:0]\n"
                  "-A FLANNEL-FWD -s " +
                  cluster + " -m comment --comment \"flanneld forward\" -j ACCEPT\nCOMMIT\n");
    }
  }
  start_daemon();
  for (const std::string backend : {"nft", "legacy"}) {
    EXPECT_TRUE(iptables_lose_flanneld_rules(backend));
    EXPECT_THAT(
        node().run_in_checked(node().node(), {iptables_tool(backend, Family::ipv6, "-save")}).out,
        HasSubstr("kube-test"));
  }
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

// flanneld's nftables mode with --ip-masq left its masquerade in its own table; the iptables
// mode takes that chain out once its own rules are in, and leaves flanneld's table, which
// flanneld opens again at its next start.
TEST_P(DaemonTakeoverTest, TheIptablesModeRemovesFlanneldsNftablesMasquerade) {
  const std::string backend = GetParam();
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  nft({"-f", "-"},
      "table ip flannel-ipv4 {\n comment \"rules for flannel-ipv4\"\n"
      " chain postrtg {\n  type nat hook postrouting priority srcnat; policy accept;\n"
      "  ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random\n }\n}\n");
  start_daemon({"--iptables-backend=" + backend});
  EXPECT_TRUE(iptables_become_flanneld_rules(backend));
  EXPECT_TRUE(daemon().wait_for_log(
      "removed flanneld's own nftables rules: delete chain ip flannel-ipv4 postrtg", 10s))
      << report();
  const RunResult flanneld_table = nft({"list", "table", "ip", "flannel-ipv4"});
  EXPECT_TRUE(flanneld_table.ok()) << report();
  EXPECT_THAT(flanneld_table.out, Not(HasSubstr("chain"))) << report();
  EXPECT_FALSE(has_flannel_table()) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonTakeoverTest, testing::Values("nft", "legacy"),
                         backend_name);

using DaemonIptablesBackendTest = DaemonModeTest;

// Rules that look right in one iptables while the packets meet the other's: said at once.
TEST_F(DaemonIptablesBackendTest, WarnsOfKubeProxyAndFlannelChainsInTheOtherIptables) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  restore("legacy", Family::ipv4,
          "*nat\n:KUBE-SERVICES - [0:0]\n:FLANNEL-POSTRTG - [0:0]\n"
          "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\nCOMMIT\n"
          "*filter\n:KUBE-FORWARD - [0:0]\nCOMMIT\n");
  start_daemon({"--iptables-backend=nft"});
  EXPECT_TRUE(iptables_become_flanneld_rules("nft"));
  const auto warnings = daemon().log_lines("iptables-legacy holds flannel or kube-proxy chains");
  ASSERT_EQ(warnings.size(), 1U) << report();
  EXPECT_THAT(warnings.front(),
              HasSubstr("(filter: KUBE-FORWARD; nat: FLANNEL-POSTRTG, KUBE-SERVICES) while "
                        "flannel-nftd uses iptables-nft"));
  EXPECT_THAT(warnings.front(), HasSubstr(" warning "));
  // flanneld's stale chain in the other iptables is flannel's to remove; kube-proxy's is not.
  EXPECT_TRUE(iptables_lose_flanneld_rules("legacy"));
  EXPECT_THAT(node().run_in_checked(node().node(), {"iptables-legacy-save"}).out,
              HasSubstr(":KUBE-SERVICES"));
  daemon().process().signal(SIGUSR1);
  EXPECT_TRUE(daemon().wait_for_log("1 warning(s)", 5s)) << report();
  const std::string metrics =
      node()
          .run_in_checked(node().node(), {"curl", "-s", "-m", "5", "http://127.0.0.1:9478/metrics"})
          .out;
  EXPECT_THAT(metrics, HasSubstr("\nflannel_nftd_warnings 1\n"));
  EXPECT_THAT(metrics, HasSubstr("\nflannel_nftd_mode{mode=\"iptables-nft\"} 1\n"));
}

// As kubelet's iptables-wrappers decide: the iptables that holds kubelet's hint chain.
TEST_F(DaemonIptablesBackendTest, AutoChoosesTheIptablesKubeletUses) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  restore("legacy", Family::ipv4, "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n");
  start_daemon({"--iptables-backend=auto"});
  EXPECT_THAT(daemon().log(),
              HasSubstr("using the iptables-legacy mode (" + net_conf_file() +
                        " does not enable NFTables: flannel's default, the iptables mode; "
                        "iptables-legacy because kubelet's KUBE-IPTABLES-HINT chain is in "
                        "iptables-legacy)"))
      << report();
  EXPECT_TRUE(iptables_become_flanneld_rules("legacy"));
  EXPECT_TRUE(iptables_holds_no_flanneld_rules("nft"));
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

// The hardened unit's view: a user without privileges, CAP_NET_ADMIN only. iptables-nft
// works; iptables-legacy cannot even be looked at, and `auto` says so instead of guessing.
TEST_F(DaemonIptablesBackendTest, AutoSaysSoWhenItCannotSeeIptablesLegacy) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  restore("legacy", Family::ipv4, "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n");
  std::filesystem::permissions(config_dir(), std::filesystem::perms::owner_all |
                                                 std::filesystem::perms::others_read |
                                                 std::filesystem::perms::others_exec);
  set_daemon_wrapper({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "--inh-caps=+net_admin", "--ambient-caps=+net_admin"});
  start_daemon({"--iptables-backend=auto"});
  EXPECT_TRUE(iptables_become_flanneld_rules("nft"));
  const auto warnings =
      daemon().log_lines("--iptables-backend=auto could not read iptables-legacy");
  ASSERT_EQ(warnings.size(), 1U) << report();
  EXPECT_THAT(warnings.front(),
              HasSubstr("cannot read /proc/net/ip_tables_names (Permission denied)"));
  EXPECT_THAT(warnings.front(), HasSubstr("pass --iptables-backend=legacy"));
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(DaemonIptablesBackendTest, CleanupOfAllModesLeavesNoTraceOfFlannel) {
  make_daemon_node(Stack::dual, /*nftables=*/false);
  start_daemon({"--iptables-backend=nft"});
  ASSERT_TRUE(iptables_become_flanneld_rules("nft"));
  daemon().process().signal(SIGTERM);
  ASSERT_EQ(daemon().process().wait_exit(5s), "exit 0") << report();
  // The other modes' traces too, as a node may hold them after an interrupted switch.
  for (const Family family : families(Stack::dual))
    restore("legacy", family, flanneld_payload(family));
  nft({"-f", "-"}, node().dump({"--mode=nftables"}));
  ASSERT_TRUE(has_flannel_table());

  const RunResult cleanup = node().flannel_nftd("cleanup", {"--mode=all"});
  ASSERT_TRUE(cleanup.ok()) << cleanup.describe();
  EXPECT_THAT(cleanup.out, HasSubstr("removed (iptables-nft) iptables nat: delete chain "
                                     "FLANNEL-POSTRTG (6 rules)"));
  EXPECT_THAT(cleanup.out, HasSubstr("removed (iptables-legacy) ip6tables filter: delete chain "
                                     "FLANNEL-FWD (2 rules)"));
  EXPECT_THAT(cleanup.out, HasSubstr("removed (nftables) delete table ip6 flannel-nftd-ipv6"));
  EXPECT_TRUE(iptables_holds_no_flanneld_rules("nft")) << cleanup.describe();
  EXPECT_TRUE(iptables_holds_no_flanneld_rules("legacy")) << cleanup.describe();
  EXPECT_FALSE(has_flannel_table()) << report();
  // A second cleanup finds nothing.
  const RunResult again = node().flannel_nftd("cleanup", {"--mode=all"});
  EXPECT_THAT(again.out, HasSubstr("no flannel rule was present")) << again.describe();
}

}  // namespace
}  // namespace fnft::netns_test
