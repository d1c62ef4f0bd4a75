// Pods made by the real CNI plugins (Debian's containernetworking-plugins: bridge,
// host-local, portmap), driven the way kubelet's runtime drives them for flannel's
// 10-flannel.conflist: the flannel plugin's delegate to `bridge` (as flannel-io/cni-plugin
// v1.9.1-flannel1 flannel_linux.go 84-119 builds it from subnet.env and cni-conf.json), then
// `portmap` chained with the bridge's result and the pod's port mappings. The plugins run in
// the node namespace, CNI_NETNS names the pod's; host-local keeps its leases in a directory
// of the test's own instead of /var/lib/cni. The destructor deletes every pod still added,
// so a failed test leaves no chain or lease behind.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {

// Where Debian's containernetworking-plugins installs the plugins.
inline constexpr const char* kCniPluginDir = "/usr/lib/cni";

// What the flannel plugin reads: subnet.env's values, and the delegate of cni-conf.json.
struct FlannelCniInputs {
  std::vector<std::string> leases;    // FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, masked
  std::vector<std::string> networks;  // FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK
  bool flannel_ipmasq = false;        // FLANNEL_IPMASQ
  int mtu = 1450;                     // FLANNEL_MTU
  // The delegate's "ipMasq" in cni-conf.json; unset as in kube-flannel.yml, so the flannel
  // plugin sets it to !FLANNEL_IPMASQ.
  std::optional<bool> delegate_ip_masq;
};

// The README's recipe on the test node's networks (testkit/flannel_node.hpp): flanneld with
// --ip-masq=false (FLANNEL_IPMASQ=false) and the delegate's "ipMasq": false, or the delegate
// as kube-flannel.yml ships it when `delegate_ip_masq` is unset.
FlannelCniInputs test_node_cni_inputs(const std::string& ipv4_lease, const std::string& ipv6_lease,
                                      std::optional<bool> delegate_ip_masq = false);

// The bridge plugin's network configuration the flannel plugin hands over for `inputs`
// (kube-flannel.yml's delegate: hairpinMode, isDefaultGateway; the plugin adds name, type,
// ipMasq, mtu, isGateway and the host-local ranges and routes).
nlohmann::json flannel_bridge_delegate(const FlannelCniInputs& inputs,
                                       const std::string& ipam_data_dir);

struct PortMapping {
  int host_port;
  int container_port;
  std::string protocol;  // "tcp" / "udp"
};

class CniPods {
 public:
  explicit CniPods(const FlannelNode& node);
  ~CniPods();
  CniPods(const CniPods&) = delete;
  CniPods& operator=(const CniPods&) = delete;

  // CNI ADD of pod `index` (its namespace is FlannelNode::pod(index)) with `inputs`, then
  // portmap with `ports`: the pod's addresses ("10.244.1.2", ...). Throws with the plugin's
  // output when one fails.
  std::vector<std::string> add(int index, const FlannelCniInputs& inputs,
                               const std::vector<PortMapping>& ports = {});
  // CNI DEL, portmap first, as the runtime tears a pod down.
  void remove(int index);

 private:
  struct Added {
    nlohmann::json delegate;
    nlohmann::json portmap;  // null without ports
  };
  RunResult plugin(const std::string& type, const std::string& command, int index,
                   const nlohmann::json& config) const;
  std::string container_id(int index) const;

  const FlannelNode& node_;
  TempDir ipam_dir_;
  std::map<int, Added> added_;
};

}  // namespace fnft::netns_test
