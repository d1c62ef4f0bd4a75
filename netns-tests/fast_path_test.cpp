// `flannel-nftd run --flowtable` on a kernel that has flowtables (`ctest -L uml` runs this
// suite under netns-tests/kernel/uml.sh): real TCP streams through the node are offloaded
// ([OFFLOAD] in `conntrack -L`, the forward chain's counters stand still while the stream goes
// on, conntrack keeps counting), masquerade stays right for offloaded flows, the flowtable's
// devices follow pods coming and going, a device that vanishes before a commit never fails
// it, and a flowtable someone deletes or changes is repaired.
//
// Over 400 lines: one suite, one fixture; each test proves one behaviour with real traffic.
#include <gmock/gmock.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include "daemon/backends/nftables_backend.hpp"
#include "netlink/detail/nft_operations.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_batch.hpp"
#include "netns-tests/cni_pods.hpp"
#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/nft_listing.hpp"
#include "netns-tests/testkit.hpp"
#include "netns-tests/traffic.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::netns_test {
namespace {

constexpr int kStreamPort = 7100;

std::set<std::string> parse_devices(const std::string& listing) {
  const auto clause = find_device_clause(listing);
  if (!clause) return {};
  return {clause->names.begin(), clause->names.end()};
}

std::string joined(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : " ") + name;
  return text;
}

class FastPathTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (IsSkipped()) return;
    if (!kernel_has_flowtables()) {
      // Under the harness (ctest's uml.fast_path) a kernel without them is a broken harness.
      const char* required = std::getenv("FNFT_REQUIRE_FLOWTABLES");
      if (required != nullptr && std::string(required) == "1") {
        FAIL() << "this kernel has no flowtables (CONFIG_NF_FLOW_TABLE), and "
                  "FNFT_REQUIRE_FLOWTABLES=1 says it must";
      }
      GTEST_SKIP() << "this kernel has no flowtables (CONFIG_NF_FLOW_TABLE): `ctest -L uml` "
                      "runs this suite under netns-tests/kernel/uml.sh";
    }
  }

  // A node with default routes and a real flannel.1 (VXLAN) to the remote node, as flanneld
  // leaves one, and conntrack accounting on (what `flags counter` keeps counting).
  const FlannelNode& make_fast_path_node(Stack stack, PodLinks pod_links = PodLinks::made_here) {
    const FlannelNode& node = make_daemon_node(stack, /*nftables=*/true, pod_links);
    node.add_default_routes();
    node.use_vxlan_to_remote();
    node.run_in_checked(node.node(), {"sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"});
    set_dump_options({"--flowtable"});
    return node;
  }

  DaemonProcess& start_fast_path_daemon() { return start_daemon({"--flowtable=required"}); }

  std::string table(Family family) const {
    return addresses(family).nft_family + " " + addresses(family).table;
  }

  // The devices the kernel's flowtable holds in `family`'s table. (Not `nft list flowtable`:
  // the kernel answers a request for one object in a single page, which ~250 device names
  // overflow; a table is listed by dump.)
  std::set<std::string> flowtable_devices(Family family) const {
    const Addresses& a = addresses(family);
    const RunResult listed =
        node().run_in(node().node(), {"nft", "list", "table", a.nft_family, a.table});
    return listed.ok() ? parse_devices(listed.out) : std::set<std::string>{};
  }

  // What the flowtable should hold, from `ip`'s own view of the node: cni0 and the links
  // enslaved to it, flannel's devices, the devices of the default routes.
  std::set<std::string> live_pod_traffic_devices() const {
    std::set<std::string> names;
    const std::string links =
        node().run_in_checked(node().node(), {"ip", "-o", "link", "show"}).out;
    static const std::regex link(R"(^\d+: ([^:@]+)[@:].*$)");
    std::istringstream in(links);
    for (std::string line; std::getline(in, line);) {
      std::smatch match;
      if (!std::regex_match(line, match, link)) continue;
      const std::string name = match[1].str();
      if (name == "cni0" || name.rfind("flannel", 0) == 0 ||
          line.find(" master cni0 ") != std::string::npos) {
        names.insert(name);
      }
    }
    for (const char* family : {"-4", "-6"}) {
      const std::string routes =
          node()
              .run_in_checked(node().node(), {"ip", family, "-o", "route", "show", "default"})
              .out;
      static const std::regex device(R"( dev (\S+))");
      for (std::sregex_iterator it(routes.begin(), routes.end(), device), end; it != end; ++it) {
        names.insert((*it)[1].str());
      }
    }
    return names;
  }

  testing::AssertionResult devices_become_live(Family family, std::chrono::milliseconds timeout) {
    std::set<std::string> held, live;
    if (eventually(
            [&] {
              return (held = flowtable_devices(family)) == (live = live_pod_traffic_devices());
            },
            timeout)) {
      return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "flowtable devices: " << joined(held)
                                       << "\nlive devices:      " << joined(live) << report();
  }

  // The packets the forward chain of `family`'s table has counted, all rules together.
  long forward_packets(Family family) const {
    const Addresses& a = addresses(family);
    const std::string listed =
        node()
            .run_in_checked(node().node(),
                            {"nft", "list", "chain", a.nft_family, a.table, "forward"})
            .out;
    static const std::regex packets(R"(packets (\d+))");
    long total = 0;
    for (std::sregex_iterator it(listed.begin(), listed.end(), packets), end; it != end; ++it) {
      total += std::stol((*it)[1].str());
    }
    return total;
  }

  // `conntrack -L` lines of the stream's connection in the node.
  std::vector<std::string> stream_entries(Family family) const {
    const RunResult listed = node().run_in(
        node().node(), {"conntrack", "-L", "-f", family == Family::ipv4 ? "ipv4" : "ipv6"});
    return lines_containing(listed.out, "dport=" + std::to_string(kStreamPort) + " ");
  }
};

// A long TCP stream through the node, and the kernel's view of it.
struct Direction {
  std::string name;
  Stack stack;
  Family family;
  enum class Path { pod_to_outside, pod_to_remote_pod, outside_to_pod } path;
};

void PrintTo(const Direction& direction, std::ostream* out) {
  *out << direction.name;
}

std::string direction_name(const testing::TestParamInfo<Direction>& param) {
  return param.param.name;
}

class FastPathOffloadTest : public FastPathTest, public testing::WithParamInterface<Direction> {};

TEST_P(FastPathOffloadTest, OffloadsTheEstablishedStreamAndKeepsItRight) {
  const Direction& d = GetParam();
  const FlannelNode& node = make_fast_path_node(d.stack);
  const Addresses& a = addresses(d.family);
  start_fast_path_daemon();
  ASSERT_FALSE(flowtable_devices(d.family).empty()) << report();

  std::string client = node.pod(0), server = node.outside(), server_address = a.outside;
  if (d.path == Direction::Path::pod_to_remote_pod) {
    server = node.remote();
    server_address = a.remote_pod;
  } else if (d.path == Direction::Path::outside_to_pod) {
    node.route_outside_to_pods();
    client = node.outside();
    server = node.pod(0);
    server_address = a.pods[0];
  }
  auto echo = node.spawn_in(
      server, probe({"echo-tcp", server_address, std::to_string(kStreamPort), "--timeout", "30"}));
  ASSERT_TRUE(echo.wait_for_stderr("ready", 5s)) << echo.describe();
  auto stream =
      node.spawn_in(client, probe({"tcp-stream", server_address, std::to_string(kStreamPort),
                                   "--interval-ms", "10", "--timeout", "30"}));
  ASSERT_TRUE(stream.wait_for_stderr("started", 5s)) << stream.describe();

  // The flow leaves the forward hook once the first established packet from a pod met the
  // `flow add` rule.
  std::vector<std::string> entries;
  ASSERT_TRUE(eventually(
      [&] {
        entries = stream_entries(d.family);
        return entries.size() == 1 && entries[0].find("[OFFLOAD]") != std::string::npos;
      },
      5s))
      << "conntrack never showed the stream offloaded:\n"
      << testing::PrintToString(entries) << report();

  // While it is offloaded, the stream goes on, the forward chain sees none of it, and
  // conntrack (flags counter) keeps counting its packets.
  auto packets_counted = [&] {
    static const std::regex packets(R"(packets=(\d+))");
    long total = 0;
    const auto lines = stream_entries(d.family);
    if (lines.empty()) return -1L;
    for (std::sregex_iterator it(lines[0].begin(), lines[0].end(), packets), end; it != end; ++it)
      total += std::stol((*it)[1].str());
    return total;
  };
  const long forward_before = forward_packets(d.family);
  const long conntrack_before = packets_counted();
  ASSERT_TRUE(stream.wait_for_stderr("rounds 100", 10s)) << stream.describe();
  const long forward_after = forward_packets(d.family);
  const long conntrack_after = packets_counted();
  EXPECT_EQ(forward_after, forward_before) << "the forward chain still counts the stream";
  EXPECT_GT(conntrack_after, conntrack_before + 50)
      << "conntrack stopped counting the offloaded packets";

  const RunResult summary = stream.stop(SIGTERM);
  EXPECT_THAT(summary.out, testing::HasSubstr("late 0 broken 0")) << summary.describe();
  const RunResult served = echo.stop(SIGTERM);
  // The outside has no route back to the pods: a stream from a pod that survived offload was
  // masqueraded to the node's uplink address, and the server saw that address.
  if (d.path == Direction::Path::pod_to_outside) {
    EXPECT_THAT(served.out, testing::HasSubstr(a.uplink_node)) << served.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, FastPathOffloadTest,
    testing::Values(
        Direction{"PodToOutsideIPv4", Stack::ipv4, Family::ipv4, Direction::Path::pod_to_outside},
        Direction{"PodToOutsideIPv6", Stack::dual, Family::ipv6, Direction::Path::pod_to_outside},
        Direction{"PodToRemotePodThroughFlannel1", Stack::ipv4, Family::ipv4,
                  Direction::Path::pod_to_remote_pod},
        Direction{"OutsideToPodIPv4", Stack::ipv4, Family::ipv4, Direction::Path::outside_to_pod}),
    direction_name);

TEST_F(FastPathTest, TheDevicesFollowTwoHundredPodsComingAndGoing) {
  const FlannelNode& node = make_fast_path_node(Stack::dual);
  start_fast_path_daemon();
  ASSERT_TRUE(devices_become_live(Family::ipv4, 5s));
  EXPECT_TRUE(devices_become_live(Family::ipv6, 5s));
  const auto live_before = live_pod_traffic_devices();
  EXPECT_TRUE(live_before.count("cni0") && live_before.count("veth-pod1") &&
              live_before.count("uplink") && live_before.count("flannel.1"))
      << joined(live_before);

  // Pods as a CNI plugin makes them: a veth pair, one end enslaved to cni0 and up. The other
  // ends go into one namespace (200 namespaces would test `ip netns`, not us).
  const Namespace pods(unique_prefix() + "churn");
  std::string create, remove_half, remove_rest;
  for (int i = 0; i < 200; ++i) {
    const std::string veth = "vethc" + std::to_string(i);
    create += "link add " + veth + " type veth peer name p" + std::to_string(i) + " netns " +
              pods.name() + "\nlink set " + veth + " master cni0 up\n";
    (i % 2 == 0 ? remove_half : remove_rest) += "link del " + veth + "\n";
  }
  node.run_in_checked(node.node(), {"ip", "-batch", "-"}, create);
  EXPECT_TRUE(devices_become_live(Family::ipv4, 20s));
  EXPECT_EQ(flowtable_devices(Family::ipv4).size(), live_before.size() + 200);
  node.run_in_checked(node.node(), {"ip", "-batch", "-"}, remove_half);
  EXPECT_TRUE(devices_become_live(Family::ipv4, 20s));
  EXPECT_TRUE(devices_become_live(Family::ipv6, 5s));
  node.run_in_checked(node.node(), {"ip", "-batch", "-"}, remove_rest);
  EXPECT_TRUE(devices_become_live(Family::ipv4, 20s));
  EXPECT_EQ(flowtable_devices(Family::ipv4), live_before);
  EXPECT_TRUE(tables_become_desired());

  // Coalesced: 400 link changes (each several rtnetlink messages) are a handful of updates.
  const auto updates = daemon().log_lines("fast path: ").size();
  RecordProperty("device_updates", static_cast<int>(updates));
  std::cout << "[ measured ] 200 veths created, 100 + 100 deleted: " << updates
            << " device set update(s)\n";
  EXPECT_THAT(daemon().log_lines(" failed"), testing::IsEmpty()) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

// The veths the real bridge plugin makes (names it picks, on a cni0 it creates with the
// first pod) join the flowtable, and leave it with CNI DEL.
TEST_F(FastPathTest, TheDevicesFollowThePodsTheRealCniPluginsMake) {
  make_fast_path_node(Stack::ipv4, PodLinks::by_cni);
  start_fast_path_daemon();
  const auto before = flowtable_devices(Family::ipv4);
  EXPECT_EQ(before.count("cni0"), 0U) << "no pod yet, so no cni0";
  CniPods pods(node());
  const auto inputs = test_node_cni_inputs("10.244.1.0/24", "fd00:10:244:1::/64");
  pods.add(0, inputs);
  pods.add(1, inputs);
  ASSERT_TRUE(devices_become_live(Family::ipv4, 10s));
  const auto with_pods = flowtable_devices(Family::ipv4);
  const auto veths = std::count_if(with_pods.begin(), with_pods.end(), [](const std::string& name) {
    return name.starts_with("veth");
  });
  EXPECT_EQ(veths, 2) << joined(with_pods);
  EXPECT_EQ(with_pods.count("cni0"), 1U) << joined(with_pods);
  pods.remove(1);  // pod 0 stays: pod_egress_is_masqueraded sends from it
  ASSERT_TRUE(devices_become_live(Family::ipv4, 10s));
  EXPECT_EQ(flowtable_devices(Family::ipv4).size(), with_pods.size() - 1) << report();
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(FastPathTest, DevicesVanishingDuringCommitsNeverFailOne) {
  const FlannelNode& node = make_fast_path_node(Stack::ipv4);
  start_fast_path_daemon();
  // More pods than a flowtable holds (255 devices): those created last wait for a slot.
  const Namespace pods(unique_prefix() + "churn");
  std::string create, remove;
  for (int i = 0; i < 400; ++i) {
    const std::string veth = "vethr" + std::to_string(i);
    create += "link add " + veth + " type veth peer name p" + std::to_string(i) + " netns " +
              pods.name() + "\nlink set " + veth + " master cni0 up\n";
    remove += "link del " + veth + "\n";
  }
  node.run_in_checked(node.node(), {"ip", "-batch", "-"}, create);
  std::size_t bound = 0;
  EXPECT_TRUE(
      eventually([&] { return (bound = flowtable_devices(Family::ipv4).size()) == 255; }, 20s))
      << bound << " devices bound\n"
      << report();
  // Deleted oldest first: each deletion frees a slot that goes to a veth about to be deleted
  // too, so the daemon keeps committing device sets that are stale by the time they land.
  node.run_in_checked(node.node(), {"ip", "-batch", "-"}, remove);
  EXPECT_TRUE(devices_become_live(Family::ipv4, 20s));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_THAT(daemon().log_lines(" failed"), testing::IsEmpty()) << report();
  EXPECT_THAT(daemon().log_lines("could not"), testing::IsEmpty()) << report();
  std::cout << "[ measured ] commits that left out devices gone before they landed: "
            << daemon().log_lines("went away before the commit").size() << "\n";
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

TEST_F(FastPathTest, ACommitNamingAVanishedDeviceIsRetriedAtOnceWithoutIt) {
  const FlannelNode& node = make_fast_path_node(Stack::ipv4);
  // What the daemon meets when a pod's veth goes between the link event and the commit: the
  // backend is handed a device the kernel no longer has. The kernel refuses the batch (6.1:
  // ENOENT naming nothing; later kernels point at the device), and the backend commits the
  // rest at once.
  daemon::BackendResult result;
  {
    const InNamespace inside(node.node());
    netlink::NfnlSocket socket;
    daemon::NftablesBackend backend(socket);
    state::Target target;
    target.config.ipv4 = state::FamilyNetworks{*state::parse_cidr("10.244.0.0/16"),
                                               *state::parse_cidr("10.244.1.0/24")};
    target.fast_path = state::FastPath{{"cni0", "gone-pod0", "uplink", "veth-pod1"}, true};
    backend.apply(target, {}, [&](daemon::BackendResult applied) { result = std::move(applied); });
  }
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_TRUE(result.committed);
  EXPECT_THAT(result.notes,
              testing::Contains(testing::HasSubstr("1 device(s) went away before the commit "
                                                   "(gone-pod0)")));
  EXPECT_EQ(flowtable_devices(Family::ipv4), (std::set<std::string>{"cni0", "uplink", "veth-pod1"}))
      << node.ruleset();
}

// The other half of that race: a device bound when we dumped goes before our commit unbinds
// it. The kernel unbinds a device that goes by itself, so our removal names a hook it no
// longer has and the batch is refused; the refusal must say which devices it removed, so the
// backend can tell this from a real failure and plan again from a fresh dump.
TEST_F(FastPathTest, UnbindingADeviceTheKernelAlreadyDroppedIsRefusedNamingIt) {
  const FlannelNode& node = make_fast_path_node(Stack::ipv4);
  node.run_in_checked(node.node(), {"ip", "link", "add", "going-pod0", "type", "dummy"});
  const InNamespace inside(node.node());
  netlink::NfnlSocket socket;
  {
    daemon::NftablesBackend backend(socket);
    state::Target target;
    target.config.ipv4 = state::FamilyNetworks{*state::parse_cidr("10.244.0.0/16"),
                                               *state::parse_cidr("10.244.1.0/24")};
    target.fast_path = state::FastPath{{"cni0", "going-pod0", "uplink", "veth-pod1"}, true};
    std::optional<std::string> error;
    backend.apply(target, {}, [&](daemon::BackendResult applied) { error = applied.error; });
    ASSERT_FALSE(error) << *error;
  }
  ASSERT_EQ(flowtable_devices(Family::ipv4).count("going-pod0"), 1U) << node.ruleset();
  node.run_in_checked(node.node(), {"ip", "link", "del", "going-pod0"});
  state::NftOperation unbind;
  unbind.kind = state::NftOperation::Kind::unbind_flowtable_devices;
  unbind.table = "flannel-nftd-ipv4";
  unbind.flowtable.name = "fastpath";
  unbind.flowtable.devices = {"going-pod0"};
  netlink::NftBatch batch;
  netlink::add_operation(batch, unbind);
  try {
    batch.send(socket);
    ADD_FAILURE() << "the kernel unbound a device it no longer holds";
  } catch (const netlink::NetlinkError& error) {
    ASSERT_TRUE(error.rejected()) << error.what();
    EXPECT_EQ(error.rejected()->type, NFT_MSG_DELFLOWTABLE) << error.what();
    EXPECT_THAT(error.rejected()->devices, testing::ElementsAre("going-pod0")) << error.what();
  }
  EXPECT_EQ(flowtable_devices(Family::ipv4), (std::set<std::string>{"cni0", "uplink", "veth-pod1"}))
      << node.ruleset();
}

TEST_F(FastPathTest, RepairsADeletedFlowtable) {
  make_fast_path_node(Stack::ipv4);
  start_fast_path_daemon();
  // The flowtable cannot go while the rule using it is there: both go in one transaction.
  const auto handle = rule_handle(Family::ipv4, "fast path: established pod traffic");
  nft({"-f", "-"}, "delete rule " + table(Family::ipv4) + " forward handle " +
                       std::to_string(handle) + "\ndelete flowtable " + table(Family::ipv4) +
                       " fastpath\n");
  EXPECT_TRUE(repair_logged("delflowtable " + table(Family::ipv4)));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(devices_become_live(Family::ipv4, 5s));
}

TEST_F(FastPathTest, RepairsADeviceSomeoneUnbound) {
  make_fast_path_node(Stack::ipv4);
  start_fast_path_daemon();
  nft({"delete", "flowtable", "ip", "flannel-nftd-ipv4", "fastpath", "{ devices = { uplink } ; }"});
  EXPECT_TRUE(repair_logged("delflowtable " + table(Family::ipv4)));
  EXPECT_TRUE(devices_become_live(Family::ipv4, 5s));
  EXPECT_TRUE(tables_become_desired());
}

TEST_F(FastPathTest, RepairsNftFlushRulesetFlowtableAndAll) {
  make_fast_path_node(Stack::dual);
  start_fast_path_daemon();
  nft({"flush", "ruleset"});
  EXPECT_TRUE(repair_logged("after nft (pid "));
  EXPECT_TRUE(tables_become_desired());
  EXPECT_TRUE(devices_become_live(Family::ipv6, 5s));
  EXPECT_TRUE(pod_egress_is_masqueraded());
}

}  // namespace
}  // namespace fnft::netns_test
