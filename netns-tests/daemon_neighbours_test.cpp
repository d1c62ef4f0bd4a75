// The daemon beside its real neighbours: flanneld (replayed command for command by
// flanneld_replay, which cites the flanneld source it follows) and the CNI plugins that make
// the pods (Debian's bridge, host-local and portmap, driven as kubelet drives flannel's
// conflist). flanneld must never fail because of the daemon, and the daemon's rules must stay
// exactly as desired whatever flanneld does; a neighbour that would masquerade too is named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "netns-tests/cni_pods.hpp"
#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kHostPort = 8080;
constexpr int kPodPort = 8000;
constexpr int kRemotePort = 7400;

// The lease flanneld gets after the change (a new Node object, a new podCIDR).
const char* const kNewIpv4Lease = "10.244.5.0/24";
const char* const kNewIpv6Lease = "fd00:10:244:5::/64";

struct Neighbourhood {
  bool nftables;  // net-conf.json EnableNFTables: flanneld's mode and the daemon's
  bool protect;   // the daemon's default (--protect=auto) or --protect=off
  std::string name;
};

void PrintTo(const Neighbourhood& n, std::ostream* out) {
  *out << n.name;
}

std::string neighbourhood_name(const testing::TestParamInfo<Neighbourhood>& param_info) {
  return param_info.param.name;
}

class DaemonNeighboursTest : public DaemonTest {
 protected:
  // flanneld_replay in the node namespace, as flanneld runs on the node.
  BackgroundProcess start_flanneld(const std::string& ipv4_lease, const std::string& ipv6_lease,
                                   std::vector<std::string> flags) const {
    std::vector<std::string> argv = {FNFT_FLANNELD_REPLAY_BINARY,
                                     "--subnet-file=" + subnet_file(),
                                     "--network=10.244.0.0/16",
                                     "--lease=" + ipv4_lease,
                                     "--ipv6-network=fd00:10:244::/56",
                                     "--ipv6-lease=" + ipv6_lease,
                                     "--iptables-resync=1"};
    if (nftables_) argv.push_back("--enable-nftables");
    argv.insert(argv.end(), flags.begin(), flags.end());
    return node().spawn_in(node().node(), std::move(argv));
  }

  // Starts flanneld and waits until it is ready (or has failed): its transcript on failure.
  testing::AssertionResult flanneld_becomes_ready(BackgroundProcess& flanneld) const {
    if (flanneld.wait_for_stderr("flannel is ready", 30s)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "flanneld did not become ready\n" << flanneld.describe();
  }

  static testing::AssertionResult stops_cleanly(BackgroundProcess& flanneld) {
    const RunResult stopped = flanneld.stop(SIGTERM);
    if (stopped.exit_code == 0) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "flanneld did not exit 0\n" << stopped.describe();
  }

  // The nat chains the bridge plugin made for its own masquerade, in both iptables-nft tables.
  std::string cni_masquerade_chains() const {
    std::string chains;
    static const std::regex chain(R"(^:(CNI-[0-9a-f]{24}) )");
    for (const char* tool : {"iptables-nft-save", "ip6tables-nft-save"}) {
      const RunResult saved = node().run_in_checked(node().node(), {tool, "-t", "nat"});
      std::istringstream lines(saved.out);
      for (std::string line; std::getline(lines, line);) {
        std::smatch match;
        if (std::regex_search(line, match, chain))
          chains += std::string(tool) + " " + match[1].str() + "\n";
      }
    }
    return chains;
  }

  // What the other node's pod sees as the source of a datagram from `pod_ns`: the pod's own
  // address when nothing masqueraded it.
  SourceSeen source_at_remote_pod(Family family) const {
    return source_seen_by_server(node(), Protocol::udp, node().pod(0), node().remote(),
                                 addresses(family).remote_pod, kRemotePort);
  }

  // The pod's own TCP server, reached from the outside at the node's uplink hostPort.
  SourceSeen host_port_from_outside(const std::string& pod_address) const {
    BackgroundProcess server = node().spawn_in(
        node().pod(0),
        probe({"serve-tcp", pod_address, std::to_string(kPodPort), "--timeout", "5"}));
    SourceSeen seen;
    if (!server.wait_for_stderr("ready", 5s)) {
      seen.server = server.finish(1s);
      return seen;
    }
    seen.client =
        node().run_in(node().outside(), probe({"connect-tcp", addresses(Family::ipv4).uplink_node,
                                               std::to_string(kHostPort), "--timeout", "5"}));
    seen.server = server.finish(7s);
    if (!seen.server.out.empty())
      seen.source = seen.server.out.substr(0, seen.server.out.find('\n'));
    return seen;
  }

  // flanneld's own tables as its next start finds them: no chain of its in them.
  testing::AssertionResult flanneld_tables_hold_no_chain() const {
    for (const Family family : {Family::ipv4, Family::ipv6}) {
      const Addresses& a = addresses(family);
      const RunResult listed =
          node().run_in(node().node(), {"nft", "list", "table", a.nft_family, a.flanneld_table});
      if (listed.ok() && listed.out.find("chain") != std::string::npos)
        return testing::AssertionFailure() << listed.describe();
    }
    return testing::AssertionSuccess();
  }

  testing::AssertionResult rules_are_desired() const {
    if (nftables_) return tables_become_desired();
    return iptables_become_flanneld_rules("nft");
  }

  void use_mode(bool nftables) { nftables_ = nftables; }
  bool nftables_ = true;
};

class DaemonBesideFlanneldTest : public DaemonNeighboursTest,
                                 public testing::WithParamInterface<Neighbourhood> {};

// The README's recipe, the whole life of a node: flanneld with --ip-masq=false
// --iptables-forward-rules=false starts beside the daemon, restarts three times, and follows a
// lease change (its pods deleted by CNI DEL, cni0 gone, a new pod in the new lease), while the
// daemon never has a rule to repair and pod traffic is masqueraded exactly where it should be.
TEST_P(DaemonBesideFlanneldTest, FlanneldStartsRestartsAndChangesLeaseWhileOurRulesStay) {
  const Neighbourhood& n = GetParam();
  use_mode(n.nftables);
  make_daemon_node(Stack::dual, n.nftables, PodLinks::by_cni);
  std::vector<std::string> options;
  if (n.nftables) options.push_back(n.protect ? "--protect=auto" : "--protect=off");
  if (!n.nftables) options.push_back("--iptables-backend=nft");
  start_daemon(options);

  CniPods pods(node());
  const auto pod = pods.add(0, test_node_cni_inputs("10.244.1.0/24", "fd00:10:244:1::/64", false),
                            {{kHostPort, kPodPort, "tcp"}});
  ASSERT_EQ(pod.size(), 2U);
  EXPECT_EQ(cni_masquerade_chains(), "") << "the delegate says \"ipMasq\": false";

  const std::vector<std::string> flags = {"--ip-masq=false", "--iptables-forward-rules=false"};
  std::string transcripts;
  for (int start = 0; start < 4; ++start) {
    BackgroundProcess flanneld = start_flanneld("10.244.1.0/24", "fd00:10:244:1::/64", flags);
    ASSERT_TRUE(flanneld_becomes_ready(flanneld)) << report();
    ASSERT_TRUE(stops_cleanly(flanneld)) << report();
    transcripts += flanneld.describe();
  }
  EXPECT_TRUE(rules_are_desired()) << transcripts << report();
  EXPECT_EQ(repairs_logged(), 0U) << "flanneld touched the daemon's rules\n"
                                  << transcripts << report();
  EXPECT_TRUE(flanneld_tables_hold_no_chain()) << report();

  // Masqueraded once towards the outside, never towards the other node's pods, and the
  // hostPort reaches the pod.
  EXPECT_TRUE(pod_egress_is_masqueraded());
  for (const Family family : families(Stack::dual)) {
    const SourceSeen seen = source_at_remote_pod(family);
    EXPECT_EQ(seen.source, pod[family == Family::ipv4 ? 0 : 1]) << seen.describe() << report();
  }
  const SourceSeen host_port = host_port_from_outside(pod[0]);
  EXPECT_TRUE(host_port.source.has_value()) << host_port.describe() << report();
  const RunResult tracked =
      node().run_in(node().node(), {"conntrack", "-L", "-p", "udp", "--orig-src", pod[0],
                                    "--orig-dst", addresses(Family::ipv4).outside});
  EXPECT_THAT(tracked.out, HasSubstr("dst=" + addresses(Family::ipv4).uplink_node))
      << "one entry, its reply to the uplink address: masqueraded once\n"
      << tracked.describe();
  std::cout << "[ conntrack ] pod -> outside, the recipe: " << tracked.out;
  std::cout << "[ conntrack ] pod -> remote pod, the recipe: "
            << node()
                   .run_in(node().node(), {"conntrack", "-L", "-p", "udp", "--orig-src", pod[0],
                                           "--orig-dst", addresses(Family::ipv4).remote_pod})
                   .out;

  // The lease change.
  pods.remove(0);
  node().run_in_checked(node().node(), {"ip", "link", "del", "cni0"});
  BackgroundProcess flanneld = start_flanneld(kNewIpv4Lease, kNewIpv6Lease, flags);
  ASSERT_TRUE(flanneld_becomes_ready(flanneld)) << report();
  ASSERT_TRUE(daemon().wait_for_log(kNewIpv4Lease, 10s)) << report();
  EXPECT_TRUE(rules_are_desired()) << flanneld.describe() << report();
  node().run_in_checked(node().remote(), {"ip", "route", "add", kNewIpv4Lease, "via",
                                          addresses(Family::ipv4).remote_link_node});
  node().run_in_checked(node().remote(), {"ip", "route", "add", kNewIpv6Lease, "via",
                                          addresses(Family::ipv6).remote_link_node});
  const auto moved = pods.add(0, test_node_cni_inputs(kNewIpv4Lease, kNewIpv6Lease, false));
  ASSERT_EQ(moved.size(), 2U);
  EXPECT_THAT(moved[0], testing::StartsWith("10.244.5."));
  EXPECT_TRUE(pod_egress_is_masqueraded());
  for (const Family family : families(Stack::dual)) {
    const SourceSeen seen = source_at_remote_pod(family);
    EXPECT_EQ(seen.source, moved[family == Family::ipv4 ? 0 : 1]) << seen.describe() << report();
  }
  EXPECT_TRUE(stops_cleanly(flanneld)) << report();
  EXPECT_EQ(repairs_logged(), 0U) << flanneld.describe() << report();
  EXPECT_TRUE(daemon().log_lines(" warning ").empty()) << report();
}

INSTANTIATE_TEST_SUITE_P(Modes, DaemonBesideFlanneldTest,
                         testing::Values(Neighbourhood{true, true, "NftablesProtected"},
                                         Neighbourhood{true, false, "NftablesUnprotected"},
                                         Neighbourhood{false, false, "Iptables"}),
                         neighbourhood_name);

// kube-flannel.yml's delegate as shipped (no "ipMasq") with flanneld --ip-masq=false: the
// bridge plugin masquerades each pod itself, pod-to-remote-pod traffic included. The daemon
// says so in its log, its status and `doctor`, and stops saying so once the pod is gone.
TEST_F(DaemonNeighboursTest, TheBridgePluginsOwnMasqueradeIsNamedWithItsFix) {
  make_daemon_node(Stack::ipv4, /*nftables=*/true, PodLinks::by_cni);
  const std::string control_socket = config_dir() + "/control.sock";
  start_daemon({"--control-socket=" + control_socket});
  CniPods pods(node());
  const auto pod =
      pods.add(0, test_node_cni_inputs("10.244.1.0/24", "fd00:10:244:1::/64", std::nullopt));
  ASSERT_THAT(cni_masquerade_chains(), HasSubstr("CNI-"));

  const SourceSeen seen = source_at_remote_pod(Family::ipv4);
  for (const auto& destination :
       {addresses(Family::ipv4).outside, addresses(Family::ipv4).remote_pod}) {
    if (destination == addresses(Family::ipv4).outside) pod_egress_is_masqueraded();
    const RunResult tracked = node().run_in(
        node().node(),
        {"conntrack", "-L", "-p", "udp", "--orig-src", pod[0], "--orig-dst", destination});
    std::cout << "[ conntrack ] pod -> " << destination
              << ", the shipped delegate: " << tracked.out;
  }
  EXPECT_EQ(seen.source, addresses(Family::ipv4).remote_link_node)
      << "the bridge plugin's masquerade hides the pod from the other node\n"
      << seen.describe();
  ASSERT_TRUE(daemon().wait_for_log("the CNI bridge plugin masquerades pod traffic itself", 10s))
      << report();
  const auto warned = daemon().log_lines("the CNI bridge plugin masquerades");
  ASSERT_EQ(warned.size(), 1U) << report();
  EXPECT_THAT(warned.front(), HasSubstr("\"ipMasq\": false"));

  const auto status = [&] {
    const RunResult result =
        run({FNFT_BINARY, "status", "--json", "--control-socket=" + control_socket});
    return nlohmann::json::parse(result.out, nullptr, false);
  };
  EXPECT_THAT(status()["warnings"].dump(), HasSubstr("the CNI bridge plugin masquerades"));
  const RunResult doctor =
      node().run_in(node().node(), {FNFT_BINARY, "doctor", "--subnet-file=" + subnet_file(),
                                    "--net-config-path=" + net_conf_file()});
  EXPECT_THAT(doctor.out + doctor.err, HasSubstr("ipMasq")) << doctor.describe();

  pods.remove(0);
  ASSERT_EQ(cni_masquerade_chains(), "");
  bool cleared = false;
  for (int i = 0; i < 100 && !cleared; ++i) {
    cleared = status()["warnings"].dump().find("CNI bridge") == std::string::npos;
    if (!cleared) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(cleared) << status().dump(2) << report();
}

// flanneld started with its defaults (--ip-masq, --iptables-forward-rules) in its nftables
// mode: it still starts (the daemon refuses it nothing), its chains are taken out again, the
// daemon's rules stay, and the daemon names the flags that end the contest.
TEST_F(DaemonNeighboursTest, FlanneldsOwnNftablesMasqueradeIsTakenOutAndNamed) {
  make_daemon_node(Stack::dual, /*nftables=*/true, PodLinks::by_cni);
  const std::string control_socket = config_dir() + "/control.sock";
  start_daemon({"--control-socket=" + control_socket});
  BackgroundProcess flanneld = start_flanneld("10.244.1.0/24", "fd00:10:244:1::/64",
                                              {"--ip-masq=true", "--iptables-forward-rules=true"});
  ASSERT_TRUE(flanneld_becomes_ready(flanneld)) << report();
  EXPECT_TRUE(daemon().wait_for_log("wrote flanneld's own masquerade", 10s))
      << flanneld.describe() << report();
  EXPECT_TRUE(daemon().wait_for_log(
      "removed flanneld's own nftables rules: delete chain ip flannel-ipv4 postrtg", 10s))
      << report();
  EXPECT_TRUE(daemon().wait_for_log("FLANNEL_IPMASQ=true", 10s)) << report();
  EXPECT_TRUE(tables_become_desired()) << report();
  bool taken_out = false;
  for (int i = 0; i < 100 && !(taken_out = flanneld_tables_hold_no_chain()); ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(taken_out) << report();
  EXPECT_EQ(repairs_logged(), 0U) << report();
  const RunResult status =
      run({FNFT_BINARY, "status", "--json", "--control-socket=" + control_socket});
  const auto warnings = nlohmann::json::parse(status.out, nullptr, false)["warnings"].dump();
  EXPECT_THAT(warnings, HasSubstr("--ip-masq=false")) << status.describe();
  EXPECT_TRUE(stops_cleanly(flanneld)) << report();
}

// A node where flanneld runs its own masquerade and no daemon takes it out: `doctor` names
// flanneld's chains and the flags, beside the FLANNEL_IPMASQ=true flanneld wrote.
TEST_F(DaemonNeighboursTest, DoctorNamesFlanneldsOwnNftablesRules) {
  make_daemon_node(Stack::ipv4, /*nftables=*/true, PodLinks::by_cni);
  BackgroundProcess flanneld = start_flanneld("10.244.1.0/24", "fd00:10:244:1::/64",
                                              {"--ip-masq=true", "--iptables-forward-rules=true"});
  ASSERT_TRUE(flanneld_becomes_ready(flanneld));
  const RunResult doctor =
      node().run_in(node().node(), {FNFT_BINARY, "doctor", "--subnet-file=" + subnet_file(),
                                    "--net-config-path=" + net_conf_file()});
  EXPECT_THAT(doctor.out, HasSubstr("flanneld masquerades pod traffic itself"))
      << doctor.describe();
  EXPECT_THAT(doctor.out, HasSubstr("table ip flannel-ipv4 chain postrtg")) << doctor.describe();
  EXPECT_THAT(doctor.out, HasSubstr("--iptables-forward-rules=false")) << doctor.describe();
  EXPECT_THAT(doctor.out, HasSubstr("FLANNEL_IPMASQ=true")) << doctor.describe();
  EXPECT_TRUE(stops_cleanly(flanneld));
}

// The same in the iptables mode: flanneld's ensure loop writes into the daemon's own chains,
// and the daemon names flanneld (the parent of the iptables commands) and the flags.
TEST_F(DaemonNeighboursTest, FlanneldWritingOurIptablesChainsIsNamed) {
  use_mode(false);
  make_daemon_node(Stack::ipv4, /*nftables=*/false, PodLinks::by_cni);
  start_daemon({"--iptables-backend=nft"});
  BackgroundProcess flanneld = start_flanneld("10.244.1.0/24", "fd00:10:244:1::/64",
                                              {"--ip-masq=true", "--iptables-forward-rules=false"});
  ASSERT_TRUE(flanneld_becomes_ready(flanneld)) << report();
  EXPECT_TRUE(daemon().wait_for_log("started by flanneld pid", 10s))
      << flanneld.describe() << report();
  EXPECT_TRUE(daemon().wait_for_log("FLANNEL_IPMASQ=true", 10s)) << report();
  EXPECT_TRUE(stops_cleanly(flanneld)) << report();
  EXPECT_TRUE(iptables_become_flanneld_rules("nft")) << report();
}

}  // namespace
}  // namespace fnft::netns_test
