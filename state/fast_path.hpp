// Which of the node's devices the flowtable binds to, from what rtnetlink says of its links
// and default routes. Pure: netlink/link_watcher.cpp keeps the view, this decides.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "state/cidr.hpp"

namespace fnft::state {

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  int master_ifindex = 0;  // the bridge it is enslaved to, 0 for none
  friend bool operator==(const LinkInfo&, const LinkInfo&) = default;
};

// A default route's nexthop device (one entry per nexthop).
struct DefaultRoute {
  Family family = Family::ipv4;
  int ifindex = 0;
  friend bool operator==(const DefaultRoute&, const DefaultRoute&) = default;
};

struct FastPathOptions {
  std::string cni_bridge = "cni0";  // --cni-bridge
};

// flannel's own devices: flannel.<VNI> and flannel-v6.<VNI> (vxlan), flannel-wg and
// flannel-wg-v6 (wireguard); host-gw has none.
bool is_flannel_device(std::string_view name);

// A flowtable holds at most this many devices on 6.1 (NFT_NETDEVICE_MAX is 256 and the kernel
// refuses the 256th); later kernels dropped the limit, and this one is kept on all of them.
inline constexpr std::size_t kMaxFlowtableDevices = 255;

// The devices pod traffic enters the node through: the CNI bridge and the pod veths enslaved
// to it, the flannel devices present, and the uplinks of the default routes of either family;
// sorted, each once, never `lo`. With the veths in the list an offloaded flow skips the bridge
// altogether; a pod whose veth is not (yet) in it is still offloaded through the bridge, only
// slower (measured, docs/design.md). When there are more than kMaxFlowtableDevices, the pods
// created last (highest ifindex) are left to the bridge.
std::vector<std::string> fast_path_devices(const std::vector<LinkInfo>& links,
                                           const std::vector<DefaultRoute>& routes,
                                           const FastPathOptions& options);

}  // namespace fnft::state
