// The connections, not only the rules: a TCP connect whose SYN left the node while another
// process had removed our masquerade rules gets a conntrack entry without source NAT, and
// its retransmits would keep that entry (and so never be answered) for 120 s. After the
// repair the daemon deletes such entries, so a retransmit is masqueraded and the connect
// completes; entries the rules leave alone (pod to remote pod) stay. In the nftables mode
// unprotected and both iptables modes, the window held open by stopping the daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kOutsidePort = 9200;
constexpr int kRemotePodPort = 9201;

struct WindowCase {
  std::string name;
  bool nftables;
  std::string iptables_backend;  // "nft" or "legacy" in the iptables modes
  std::vector<std::string> options;
  std::vector<std::string> flush;  // removes our masquerade rules
};

const WindowCase kCases[] = {
    {"nftables",
     true,
     "",
     {"--protect=off"},
     {"nft", "flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"}},
    {"iptables_nft",
     false,
     "nft",
     {"--iptables-backend=nft"},
     {"iptables-nft", "-t", "nat", "-F", "FLANNEL-POSTRTG"}},
    {"iptables_legacy",
     false,
     "legacy",
     {"--iptables-backend=legacy", "--iptables-resync=1"},
     {"iptables-legacy", "-t", "nat", "-F", "FLANNEL-POSTRTG"}},
};

class DaemonConntrackTest : public DaemonParamTest<WindowCase> {
 protected:
  void SetUp() override {
    DaemonParamTest<WindowCase>::SetUp();
    if (IsSkipped()) return;
    make_daemon_node(Stack::ipv4, GetParam().nftables);
    // What keeps conntrack tracking on every real node whatever our rules hold: kube-proxy's
    // forward chain drops invalid packets (nftables mode: `ct state invalid drop` in
    // filter-forward). Without any such user, a flushed chain holds no masquerade and the
    // kernel stops tracking, so the window leaves no entry behind.
    node().run_in_checked(node().node(), {"nft", "-f", "-"},
                          "table ip kube-proxy {\n  chain filter-forward {\n    type filter hook "
                          "forward priority -110; policy accept;\n    ct state invalid drop\n  "
                          "}\n}\n");
    start_daemon(GetParam().options);
  }

  // The entries from the pod to `destination`, as `conntrack -L` lists them.
  std::string entries_to(const std::string& destination) const {
    return node()
        .run_in(node().node(), {"conntrack", "-L", "--orig-src", addresses(Family::ipv4).pods[0],
                                "--orig-dst", destination})
        .out;
  }
};

TEST_P(DaemonConntrackTest, AConnectWhoseSynMetTheWindowCompletesAfterTheRepair) {
  const Addresses& a = addresses(Family::ipv4);
  BackgroundProcess server = node().spawn_in(
      node().outside(),
      probe({"serve-tcp", a.outside, std::to_string(kOutsidePort), "--timeout", "20"}));
  ASSERT_TRUE(server.wait_for_stderr("ready", 5s)) << server.describe();

  // The window: our masquerade rules gone, the daemon unable to answer yet.
  daemon().process().signal(SIGSTOP);
  node().run_in_checked(node().node(), GetParam().flush);
  BackgroundProcess client = node().spawn_in(
      node().pod(0),
      probe({"connect-tcp", a.outside, std::to_string(kOutsidePort), "--timeout", "10"}));
  // A pod-to-remote-pod datagram meanwhile: no NAT is what the rules mean for it.
  node().run_in(node().pod(0), probe({"send-udp", a.remote_pod, std::to_string(kRemotePodPort)}));
  ASSERT_TRUE(
      eventually([&] { return entries_to(a.outside).find("SYN_SENT") != std::string::npos; }, 3s))
      << node().run_in(node().node(), {"conntrack", "-L"}).describe() << client.describe()
      << node().run_in(node().pod(0), {"ss", "-tan"}).describe() << node().rules_report(true);
  const std::string in_window = entries_to(a.outside);
  EXPECT_THAT(in_window, ::testing::HasSubstr("dst=" + a.pods[0]))
      << "the SYN left unmasqueraded: its reply tuple goes to the pod itself\n"
      << in_window;
  const std::string remote_pod_entry = entries_to(a.remote_pod);
  ASSERT_THAT(remote_pod_entry, ::testing::HasSubstr("dport=" + std::to_string(kRemotePodPort)));

  daemon().process().signal(SIGCONT);
  const RunResult connected = client.finish(15s);
  EXPECT_TRUE(connected.ok()) << "the connect never completed: its entry kept it unmasqueraded\n"
                              << connected.describe() << daemon().describe();
  EXPECT_TRUE(daemon().wait_for_log("connection(s) that missed masquerade reset", 5s))
      << daemon().describe();
  EXPECT_THAT(entries_to(a.remote_pod),
              ::testing::HasSubstr("dport=" + std::to_string(kRemotePodPort)))
      << "the pod-to-remote-pod entry was touched";
  const RunResult served = server.finish(5s);
  EXPECT_THAT(served.out, ::testing::HasSubstr(a.uplink_node)) << served.describe();
  if (GetParam().nftables) {
    EXPECT_TRUE(tables_become_desired()) << node().rules_report(true);
  } else {
    EXPECT_TRUE(iptables_become_flanneld_rules(GetParam().iptables_backend));
  }
}

void PrintTo(const WindowCase& window, std::ostream* out) {
  *out << window.name;
}

INSTANTIATE_TEST_SUITE_P(Modes, DaemonConntrackTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<WindowCase>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace fnft::netns_test
