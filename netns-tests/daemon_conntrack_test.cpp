// The connections, not only the rules: a TCP connect whose SYN (a UDP flow whose first
// datagram) left the node while another process had removed our masquerade rules gets a
// conntrack entry without source NAT, and its retransmits would keep that entry (and so never
// be answered) for 120 s (30 s). After the repair the daemon deletes such entries, so a
// retransmit is masqueraded and the flow is answered; entries the rules leave alone (pod to
// pod, pod to remote pod, a kube-proxy-marked service flow) stay as they are. In the nftables
// mode unprotected and both iptables modes, the window held open by stopping the daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kOutsidePort = 9200;
constexpr int kRemotePodPort = 9201;
constexpr int kOutsideUdpPort = 9202;
constexpr int kOtherPodPort = 9203;
constexpr int kServicePort = 9204;
constexpr int kNodeToPodPort = 9205;
// A service's cluster IP, DNATed by kube-proxy's rules to an endpoint.
constexpr const char* kServiceIp = "10.96.0.10";

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

  // The entries from the pod to `destination`, as `conntrack -L` lists them (with ids).
  std::string entries_to(const std::string& destination) const {
    return node()
        .run_in(node().node(), {"conntrack", "-L", "-o", "id", "--orig-src",
                                addresses(Family::ipv4).pods[0], "--orig-dst", destination})
        .out;
  }
  // The window: our masquerade rules gone, the daemon unable to answer yet.
  void open_window() {
    daemon().process().signal(SIGSTOP);
    node().run_in_checked(node().node(), GetParam().flush);
  }
  void close_window() { daemon().process().signal(SIGCONT); }
};

// The one line of `listing` that holds `needle`, or "".
std::string line_with(const std::string& listing, const std::string& needle) {
  for (const auto& line : testkit::lines_containing(listing, needle)) return line;
  return {};
}

// The entry's "id=N" in a `conntrack -L -o id` line: the same entry, whatever its timer says;
// a deleted entry's flow comes back, if at all, under another id.
std::string entry_id(const std::string& line) {
  const auto at = line.find(" id=");
  return at == std::string::npos ? std::string() : line.substr(at + 1);
}

TEST_P(DaemonConntrackTest, AConnectWhoseSynMetTheWindowCompletesAfterTheRepair) {
  const Addresses& a = addresses(Family::ipv4);
  BackgroundProcess server = node().spawn_in(
      node().outside(),
      probe({"serve-tcp", a.outside, std::to_string(kOutsidePort), "--timeout", "20"}));
  ASSERT_TRUE(server.wait_for_stderr("ready", 5s)) << server.describe();

  open_window();
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

  close_window();
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

TEST_P(DaemonConntrackTest, AUdpFlowWhoseFirstDatagramMetTheWindowIsAnsweredAfterTheRepair) {
  const Addresses& a = addresses(Family::ipv4);
  BackgroundProcess echo = node().spawn_in(
      node().outside(),
      probe({"echo-udp", a.outside, std::to_string(kOutsideUdpPort), "--timeout", "20"}));
  ASSERT_TRUE(echo.wait_for_stderr("ready", 5s)) << echo.describe();

  open_window();
  // One flow: the same socket resends every 200 ms until answered, as a resolver retries.
  BackgroundProcess client = node().spawn_in(
      node().pod(0), probe({"send-udp", a.outside, std::to_string(kOutsideUdpPort),
                            "--expect-reply", "--resend-ms", "200", "--timeout", "10"}));
  const std::string unnated = "src=" + a.outside + " dst=" + a.pods[0] + " ";
  ASSERT_TRUE(eventually(
      [&] {
        return line_with(entries_to(a.outside), "dport=" + std::to_string(kOutsideUdpPort))
                   .find(unnated) != std::string::npos;
      },
      3s))
      << "no unmasqueraded entry of the flow in the window\n"
      << entries_to(a.outside) << client.describe();
  // Long enough for resends to meet the entry: without the reset they would never be answered.
  std::this_thread::sleep_for(500ms);

  close_window();
  const RunResult answered = client.finish(15s);
  EXPECT_TRUE(answered.ok()) << "the flow was never answered: its entry kept it unmasqueraded\n"
                             << answered.describe() << daemon().describe();
  EXPECT_THAT(answered.out, ::testing::Not(::testing::HasSubstr("after 1 send(s)")))
      << "answered at once: the first datagram never met the window";
  EXPECT_TRUE(daemon().wait_for_log("connection(s) that missed masquerade reset", 5s))
      << daemon().describe();
  const std::string after =
      line_with(entries_to(a.outside), "dport=" + std::to_string(kOutsideUdpPort));
  EXPECT_THAT(after, ::testing::HasSubstr("dst=" + a.uplink_node + " "))
      << "the flow's entry now is not masqueraded:\n"
      << entries_to(a.outside);
}

// What the rules return rather than masquerade keeps its entry, even unanswered and met by a
// repair's reset: a datagram from the node to one of its pods, one to a service that
// kube-proxy's rules mark 0x4000 and DNAT to an endpoint (its own masquerade left out, so
// the entry carries the DNAT alone, as one whose masquerade kube-proxy has not done yet), and
// one to the other pod on this node's bridge, which conntrack tracks only where br_netfilter
// hands bridged traffic to the IP hooks (every Kubernetes node: kube-proxy needs it).
TEST_P(DaemonConntrackTest, EntriesTheRulesLeaveAloneAreNeverTouched) {
  const Addresses& a = addresses(Family::ipv4);
  node().run_in_checked(
      node().node(), {"nft", "-f", "-"},
      substitute("table ip kube-proxy-services {\n  chain nat-prerouting {\n    type nat hook "
                 "prerouting priority dstnat; policy accept;\n    ip daddr $SERVICE udp dport "
                 "$PORT meta mark set mark or 0x4000 dnat to $OUTSIDE:$PORT\n  }\n}\n",
                 {{"$SERVICE", kServiceIp},
                  {"$PORT", std::to_string(kServicePort)},
                  {"$OUTSIDE", a.outside}}));
  struct LeftAlone {
    std::string what;
    std::string from;  // the namespace that sends
    std::string destination;
    int port;
    std::string entry;  // its `conntrack -L -o id` line before the reset
  };
  std::vector<LeftAlone> flows = {
      {"the node to its pod", node().node(), a.pods[1], kNodeToPodPort, {}},
      {"the kube-proxy-marked service flow", node().pod(0), kServiceIp, kServicePort, {}}};
  const bool bridged_traffic_tracked =
      node().run_in(node().node(), {"cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"}).out ==
      "1\n";
  if (bridged_traffic_tracked) {
    flows.push_back({"pod to pod on the bridge", node().pod(0), a.pods[1], kOtherPodPort, {}});
  } else {
    std::cout << "[   NOTE   ] no br_netfilter in this kernel: bridged pod-to-pod traffic has no "
                 "conntrack entry to leave alone here\n";
  }
  const auto entry_of = [&](const LeftAlone& flow) {
    return line_with(
        node()
            .run_in(node().node(), {"conntrack", "-L", "-o", "id", "-p", "udp", "--orig-dst",
                                    flow.destination, "--orig-port-dst", std::to_string(flow.port)})
            .out,
        "dport=" + std::to_string(flow.port));
  };
  // Nobody listens on these ports: the entries stay unanswered.
  for (auto& flow : flows) {
    node().run_in(flow.from, probe({"send-udp", flow.destination, std::to_string(flow.port)}));
    flow.entry = entry_of(flow);
    ASSERT_THAT(flow.entry, ::testing::HasSubstr("[UNREPLIED]")) << flow.what;
    ASSERT_NE(entry_id(flow.entry), "") << flow.entry;
  }

  // A repair that does reset something: a datagram to the outside in its window.
  open_window();
  node().run_in(node().pod(0), probe({"send-udp", a.outside, std::to_string(kOutsideUdpPort)}));
  close_window();
  EXPECT_TRUE(daemon().wait_for_log("connection(s) that missed masquerade reset", 5s))
      << daemon().describe();
  for (const auto& flow : flows) {
    EXPECT_EQ(entry_id(entry_of(flow)), entry_id(flow.entry)) << flow.what << " was touched";
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
