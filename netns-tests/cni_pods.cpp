#include "netns-tests/cni_pods.hpp"

#include <unistd.h>

#include <stdexcept>

namespace fnft::netns_test {

FlannelCniInputs test_node_cni_inputs(const std::string& ipv4_lease, const std::string& ipv6_lease,
                                      std::optional<bool> delegate_ip_masq) {
  FlannelCniInputs inputs;
  inputs.leases = {ipv4_lease, ipv6_lease};
  inputs.networks = {addresses(Family::ipv4).cluster, addresses(Family::ipv6).cluster};
  inputs.flannel_ipmasq = false;
  inputs.delegate_ip_masq = delegate_ip_masq;
  return inputs;
}

nlohmann::json flannel_bridge_delegate(const FlannelCniInputs& inputs,
                                       const std::string& ipam_data_dir) {
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& lease : inputs.leases) ranges.push_back({{{"subnet", lease}}});
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& network : inputs.networks) routes.push_back({{"dst", network}});
  return {
      {"cniVersion", "0.3.1"},
      {"name", "cbr0"},
      {"type", "bridge"},
      {"hairpinMode", true},
      {"isDefaultGateway", true},
      {"ipMasq", inputs.delegate_ip_masq.value_or(!inputs.flannel_ipmasq)},
      {"mtu", inputs.mtu},
      {"isGateway", true},
      {"ipam",
       {{"type", "host-local"},
        {"dataDir", ipam_data_dir},
        {"ranges", ranges},
        {"routes", routes}}},
  };
}

CniPods::CniPods(const FlannelNode& node) : node_(node) {}

CniPods::~CniPods() {
  while (!added_.empty()) {
    try {
      remove(added_.begin()->first);
    } catch (const std::exception&) {
      added_.erase(added_.begin());  // the namespace goes with the node anyway
    }
  }
}

std::string CniPods::container_id(int index) const {
  return "fnft" + std::to_string(::getpid()) + "pod" + std::to_string(index);
}

RunResult CniPods::plugin(const std::string& type, const std::string& command, int index,
                          const nlohmann::json& config) const {
  return node_.run_in(
      node_.node(),
      {"env", "CNI_COMMAND=" + command, "CNI_CONTAINERID=" + container_id(index),
       "CNI_NETNS=/run/netns/" + node_.pod(index), "CNI_IFNAME=eth0",
       std::string("CNI_PATH=") + kCniPluginDir, std::string(kCniPluginDir) + "/" + type},
      config.dump());
}

std::vector<std::string> CniPods::add(int index, const FlannelCniInputs& inputs,
                                      const std::vector<PortMapping>& ports) {
  const nlohmann::json delegate = flannel_bridge_delegate(inputs, ipam_dir_.path() + "/networks");
  const RunResult bridge = plugin("bridge", "ADD", index, delegate);
  if (!bridge.ok()) throw std::runtime_error("CNI ADD of the bridge failed\n" + bridge.describe());
  const nlohmann::json result = nlohmann::json::parse(bridge.out);
  Added added{delegate, nullptr};
  added_[index] = added;
  if (!ports.empty()) {
    nlohmann::json mappings = nlohmann::json::array();
    for (const auto& port : ports)
      mappings.push_back({{"hostPort", port.host_port},
                          {"containerPort", port.container_port},
                          {"protocol", port.protocol}});
    added.portmap = {{"cniVersion", "0.3.1"},
                     {"name", "cbr0"},
                     {"type", "portmap"},
                     {"capabilities", {{"portMappings", true}}},
                     {"runtimeConfig", {{"portMappings", mappings}}},
                     {"prevResult", result}};
    const RunResult portmap = plugin("portmap", "ADD", index, added.portmap);
    added_[index] = added;
    if (!portmap.ok()) throw std::runtime_error("CNI ADD of portmap failed\n" + portmap.describe());
  }
  std::vector<std::string> addresses;
  for (const auto& ip : result.at("ips")) {
    const std::string cidr = ip.at("address");
    addresses.push_back(cidr.substr(0, cidr.find('/')));
  }
  return addresses;
}

void CniPods::remove(int index) {
  const auto found = added_.find(index);
  if (found == added_.end()) return;
  const Added added = found->second;
  added_.erase(found);
  if (!added.portmap.is_null()) {
    const RunResult portmap = plugin("portmap", "DEL", index, added.portmap);
    if (!portmap.ok()) throw std::runtime_error("CNI DEL of portmap failed\n" + portmap.describe());
  }
  const RunResult bridge = plugin("bridge", "DEL", index, added.delegate);
  if (!bridge.ok()) throw std::runtime_error("CNI DEL of the bridge failed\n" + bridge.describe());
}

}  // namespace fnft::netns_test
