// The node bench/flowtable forwards through, in namespaces of its own (IPv4):
//
//   pod (10.244.1.2) -- veth-pod [cni0 10.244.1.1] node [uplink 192.0.2.1] -- outside 192.0.2.2
//                                           [flannel.1 VXLAN over to-remote 198.51.100.1]
//                                                  |
//                                       remote (198.51.100.2, flannel.1, pod 10.244.2.1)
//
// The node has a default route through the uplink and flanneld's VXLAN setup towards the
// remote node (VNI 1, port 8472, static neighbour and forwarding entries), so the daemon's
// flowtable binds cni0, veth-pod, flannel.1 and uplink as on a real node. The outside routes
// the cluster back through the node, so traffic also flows with no rules (the baseline).
// Every namespace, and everything in it, goes with the object.
#pragma once

#include <string>

#include "bench/netns.hpp"

namespace fnft::bench {

class FlowtableTopology {
 public:
  static constexpr const char* kPod = "10.244.1.2";
  static constexpr const char* kRemotePod = "10.244.2.1";
  static constexpr const char* kOutside = "192.0.2.2";

  explicit FlowtableTopology(const std::string& prefix);

  const NamedNamespace& node() const { return node_; }
  const NamedNamespace& pod() const { return pod_; }
  const NamedNamespace& remote() const { return remote_; }
  const NamedNamespace& outside() const { return outside_; }

  // The MAC addresses frames are sent to: the pod's gateway, the node's VTEP as the remote
  // node sees it, and the node's uplink as the outside sees it.
  std::string bridge_mac() const { return mac(node_, "cni0"); }
  std::string node_vtep_mac() const { return mac(node_, "flannel.1"); }
  std::string uplink_mac() const { return mac(node_, "uplink"); }

  // GSO, TSO and GRO off on every device, so TCP segments cross the node one by one and its
  // per-packet cost shows.
  void disable_segmentation_offloads() const;

 private:
  static std::string mac(const NamedNamespace& ns, const std::string& device);

  NamedNamespace node_;
  NamedNamespace pod_;
  NamedNamespace remote_;
  NamedNamespace outside_;
};

}  // namespace fnft::bench
