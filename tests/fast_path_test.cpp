// Which devices the flowtable binds to, from the node's links and default routes.
#include "state/fast_path.hpp"

#include <gtest/gtest.h>

namespace fnft::state {
namespace {

std::vector<LinkInfo> node_links() {
  return {{1, "lo", 0},           {2, "eth0", 0},     {3, "cni0", 0},    {4, "flannel.1", 0},
          {5, "veth1a2b", 3},     {6, "veth3c4d", 3}, {7, "docker0", 0}, {8, "vethdock", 7},
          {9, "flannel-v6.1", 0}, {10, "eth1", 0}};
}

TEST(FastPath, TheBridgeItsPodsFlannelsDevicesAndTheUplinks) {
  const std::vector<DefaultRoute> routes = {{Family::ipv4, 2}, {Family::ipv6, 10}};
  EXPECT_EQ(fast_path_devices(node_links(), routes, {}),
            (std::vector<std::string>{"cni0", "eth0", "eth1", "flannel-v6.1", "flannel.1",
                                      "veth1a2b", "veth3c4d"}));
}

TEST(FastPath, OtherBridgesAndTheirPortsAndLoopbackStayOut) {
  const auto devices = fast_path_devices(node_links(), {{Family::ipv4, 1}}, {});
  for (const char* outside : {"docker0", "vethdock", "lo", "eth1"}) {
    EXPECT_EQ(std::count(devices.begin(), devices.end(), outside), 0) << outside;
  }
}

TEST(FastPath, TheBridgeNameIsAnOption) {
  FastPathOptions options;
  options.cni_bridge = "docker0";
  EXPECT_EQ(fast_path_devices(node_links(), {}, options),
            (std::vector<std::string>{"docker0", "flannel-v6.1", "flannel.1", "vethdock"}));
}

TEST(FastPath, WithoutTheBridgeThereAreNoPodDevices) {
  const std::vector<LinkInfo> links = {{2, "eth0", 0}, {5, "veth1a2b", 3}};
  EXPECT_EQ(fast_path_devices(links, {{Family::ipv4, 2}}, {}), std::vector<std::string>{"eth0"});
}

TEST(FastPath, FlannelsDevices) {
  for (const char* name :
       {"flannel.1", "flannel.4096", "flannel-v6.1", "flannel-wg", "flannel-wg-v6"}) {
    EXPECT_TRUE(is_flannel_device(name)) << name;
  }
  for (const char* name : {"flannel", "flannel-wgx", "myflannel.1", "cni0"}) {
    EXPECT_FALSE(is_flannel_device(name)) << name;
  }
}

// 6.1 takes 255 devices at most; the pods created last are left to the bridge, which still
// offloads them (more slowly).
TEST(FastPath, PastTheKernelsLimitTheNewestPodsAreLeftToTheBridge) {
  std::vector<LinkInfo> links = {{2, "eth0", 0}, {3, "cni0", 0}};
  for (int i = 0; i < 300; ++i) links.push_back({100 + i, "veth" + std::to_string(i), 3});
  const auto devices = fast_path_devices(links, {{Family::ipv4, 2}}, {});
  EXPECT_EQ(devices.size(), kMaxFlowtableDevices);
  EXPECT_EQ(std::count(devices.begin(), devices.end(), "veth0"), 1);
  EXPECT_EQ(std::count(devices.begin(), devices.end(), "veth252"), 1);
  EXPECT_EQ(std::count(devices.begin(), devices.end(), "veth253"), 0);
  EXPECT_EQ(std::count(devices.begin(), devices.end(), "cni0"), 1);
}

}  // namespace
}  // namespace fnft::state
