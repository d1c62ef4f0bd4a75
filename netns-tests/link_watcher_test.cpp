// netlink::LinkWatcher against the real kernel and the real libnl, in a namespace of the
// test's own, with links made by the real `ip`: what the fast path's device set is built
// from, including what the kernel and libnl do that the watcher must correct (bridges filed
// under AF_BRIDGE, AF_INET6 objects that outlive their link, IPv4 routes that vanish with no
// RTM_DELROUTE, socket overruns).
#include "netlink/link_watcher.hpp"

#include <gmock/gmock.h>

#include <algorithm>
#include <thread>

#include "netns-tests/netns_fixture.hpp"
#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {
namespace {

using testing::Contains;
using testing::Field;
using testing::Not;

class LinkWatcherTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    ns_ = std::make_unique<Namespace>(unique_prefix() + "links");
    ip("link set lo up\n"
       "link add cni0 type bridge\n"
       "link set cni0 up\n"
       "link add veth-a type veth peer name veth-a-peer\n"
       "link set veth-a master cni0 up\n"
       "link set veth-a-peer up\n"
       "link add uplink type veth peer name uplink-peer\n"
       "link set uplink up\n"
       "link set uplink-peer up\n"
       "addr add 192.0.2.1/24 dev uplink\n"
       "addr add 2001:db8:1::1/64 dev uplink nodad\n"
       "route add default via 192.0.2.2\n"
       "route add default via 2001:db8:1::2\n");
  }
  void TearDown() override {
    ns_.reset();
    NetnsTest::TearDown();
  }

  void ip(const std::string& batch) const {
    run_checked({"ip", "-n", ns_->name(), "-batch", "-"}, batch);
  }
  int ifindex(const std::string& device) const {
    return std::stoi(run_checked({"ip", "netns", "exec", ns_->name(), "cat",
                                  "/sys/class/net/" + device + "/ifindex"})
                         .out);
  }
  // Reads until the watcher has taken in what the kernel sent (the kernel queues the events
  // before `ip` returns; a short wait covers the loopback of the socket).
  static void settle(netlink::LinkWatcher& watcher) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto received = watcher.receive();
    ASSERT_FALSE(received.lost) << *received.lost;
  }
  static std::vector<std::string> names(const std::vector<state::LinkInfo>& links) {
    std::vector<std::string> result;
    for (const auto& link : links) result.push_back(link.name);
    return result;
  }

  std::unique_ptr<Namespace> ns_;
};

TEST_F(LinkWatcherTest, SeesTheBridgeItsPortsAndTheDefaultRoutesOfBothFamilies) {
  std::unique_ptr<netlink::LinkWatcher> watcher;
  {
    const InNamespace inside(ns_->name());
    watcher = std::make_unique<netlink::LinkWatcher>();
  }
  const auto links = watcher->links();
  const int bridge = ifindex("cni0");
  EXPECT_THAT(links, Contains(state::LinkInfo{bridge, "cni0", 0}));
  EXPECT_THAT(links, Contains(state::LinkInfo{ifindex("veth-a"), "veth-a", bridge}));
  // One entry per link, whatever objects libnl keeps for it.
  auto sorted = names(links);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
      << testing::PrintToString(sorted);
  const int uplink = ifindex("uplink");
  EXPECT_THAT(watcher->default_routes(),
              testing::UnorderedElementsAre(state::DefaultRoute{state::Family::ipv4, uplink},
                                            state::DefaultRoute{state::Family::ipv6, uplink}));
  EXPECT_EQ(state::fast_path_devices(links, watcher->default_routes(), {}),
            (std::vector<std::string>{"cni0", "uplink", "veth-a"}));
}

TEST_F(LinkWatcherTest, FollowsLinksComingGoingAndChangingMasterWithNothingStaleLeft) {
  std::unique_ptr<netlink::LinkWatcher> watcher;
  {
    const InNamespace inside(ns_->name());
    watcher = std::make_unique<netlink::LinkWatcher>();
  }
  // A link that comes up gets IPv6 settings, and libnl an AF_INET6 object for it that it
  // never removes.
  ip("link add veth-b type veth peer name veth-b-peer\n"
     "link set veth-b up\n"
     "link set veth-b master cni0\n");
  settle(*watcher);
  EXPECT_THAT(watcher->links(), Contains(Field(&state::LinkInfo::name, "veth-b")));
  ip("link set veth-a nomaster\n");
  settle(*watcher);
  EXPECT_THAT(watcher->links(), Contains(state::LinkInfo{ifindex("veth-a"), "veth-a", 0}));
  ip("link del veth-b\nlink del cni0\n");
  settle(*watcher);
  EXPECT_THAT(names(watcher->links()), Not(Contains("veth-b")));
  EXPECT_THAT(names(watcher->links()), Not(Contains("cni0")));
  // Kernels before 6.2 refuse to rename a link that is up (EBUSY), as CNI plugins know.
  ip("link set veth-a down\nlink set veth-a name veth-renamed\nlink set veth-renamed up\n");
  settle(*watcher);
  EXPECT_THAT(names(watcher->links()), Contains("veth-renamed"));
  EXPECT_THAT(names(watcher->links()), Not(Contains("veth-a")));
}

TEST_F(LinkWatcherTest, DropsTheIpv4RoutesOfALinkThatGoesDown) {
  std::unique_ptr<netlink::LinkWatcher> watcher;
  {
    const InNamespace inside(ns_->name());
    watcher = std::make_unique<netlink::LinkWatcher>();
  }
  const int uplink = ifindex("uplink");
  ASSERT_THAT(watcher->default_routes(),
              Contains(state::DefaultRoute{state::Family::ipv4, uplink}));
  // The kernel flushes the link's IPv4 routes without an RTM_DELROUTE for them.
  ip("link set uplink down\n");
  settle(*watcher);
  EXPECT_THAT(watcher->default_routes(),
              Not(Contains(state::DefaultRoute{state::Family::ipv4, uplink})));
  ip("link set uplink up\nroute add default via 192.0.2.2\n");
  settle(*watcher);
  EXPECT_THAT(watcher->default_routes(),
              Contains(state::DefaultRoute{state::Family::ipv4, uplink}));
}

TEST_F(LinkWatcherTest, AnOverrunIsReportedAndReconnectingReadsEverythingAgain) {
  std::unique_ptr<netlink::LinkWatcher> watcher;
  {
    const InNamespace inside(ns_->name());
    // Room for a few events only, so a burst of pods overruns it (ENOBUFS).
    watcher = std::make_unique<netlink::LinkWatcher>(16 * 1024);
  }
  std::string burst;
  for (int i = 0; i < 100; ++i) {
    burst += "link add vb" + std::to_string(i) + " type veth peer name vp" + std::to_string(i) +
             "\nlink set vb" + std::to_string(i) + " master cni0\n";
  }
  ip(burst);
  const auto received = watcher->receive();
  ASSERT_TRUE(received.lost) << "no overrun with a 16 KiB buffer and 100 veths";
  EXPECT_THAT(*received.lost, testing::HasSubstr("socket overrun"));
  {
    const InNamespace inside(ns_->name());
    watcher->reconnect();
  }
  const auto devices = state::fast_path_devices(watcher->links(), watcher->default_routes(), {});
  EXPECT_EQ(devices.size(), 103U) << testing::PrintToString(devices);  // cni0, uplink, veth-a
}

}  // namespace
}  // namespace fnft::netns_test
