#include "state/fast_path.hpp"

#include <algorithm>
#include <set>

namespace fnft::state {

bool is_flannel_device(std::string_view name) {
  return name.starts_with("flannel.") || name.starts_with("flannel-v6.") || name == "flannel-wg" ||
         name == "flannel-wg-v6";
}

std::vector<std::string> fast_path_devices(const std::vector<LinkInfo>& links,
                                           const std::vector<DefaultRoute>& routes,
                                           const FastPathOptions& options) {
  std::set<std::string> devices;
  int bridge = 0;
  for (const auto& link : links) {
    if (link.name == "lo") continue;
    if (link.name == options.cni_bridge) {
      bridge = link.ifindex;
      devices.insert(link.name);
    }
    if (is_flannel_device(link.name)) devices.insert(link.name);
  }
  for (const auto& route : routes) {
    const auto uplink = std::find_if(links.begin(), links.end(), [&](const LinkInfo& link) {
      return link.ifindex == route.ifindex;
    });
    if (uplink != links.end() && uplink->name != "lo") devices.insert(uplink->name);
  }
  if (bridge != 0) {
    std::vector<const LinkInfo*> ports;
    for (const auto& link : links) {
      if (link.master_ifindex == bridge) ports.push_back(&link);
    }
    // The oldest pods first: a slot, once taken, is not given to a newer pod.
    std::sort(ports.begin(), ports.end(),
              [](const LinkInfo* a, const LinkInfo* b) { return a->ifindex < b->ifindex; });
    for (const LinkInfo* port : ports) {
      if (devices.size() >= kMaxFlowtableDevices) break;
      devices.insert(port->name);
    }
  }
  return {devices.begin(), devices.end()};
}

}  // namespace fnft::state
