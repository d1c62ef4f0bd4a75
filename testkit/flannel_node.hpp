// The topology of one test: a small flannel node built from fresh network namespaces.
//
//   pod1 (10.244.1.2) ─┐                                   ┌─ outside (192.0.2.2)
//                      ├─ cni0 (10.244.1.1) [node] uplink ─┘   no route back to 10.244/16
//   pod2 (10.244.1.3) ─┘                     to-remote ──── remote (198.51.100.2)
//                                                            holds 10.244.2.1, the "other
//                                                            node's" pod subnet
//
// IPv6 mirrors it (fd00:10:244:1::/64 pods, 2001:db8:1::/64 uplink, 2001:db8:2::/64 remote
// link, fd00:10:244:2::1 remote pod). Both families are always wired; the Stack only decides
// which ones net-conf.json enables, i.e. which rules flannel-nftd installs.
//
// Everything is created inside namespaces named fnft-<pid>-<counter>-<role> and destroyed by
// the destructors, pass or fail: nothing touches the root namespace.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "testkit/network_namespace.hpp"
#include "testkit/programs.hpp"
#include "testkit/temp_dir.hpp"

namespace fnft::testkit {

enum class Stack { ipv4, ipv6, dual };
enum class Family { ipv4, ipv6 };

std::string to_string(Stack stack);
std::string to_string(Family family);
std::vector<Family> families(Stack stack);

// One family's addresses in the topology above, and the names flannel uses for it.
struct Addresses {
  std::string nft_family;      // "ip" / "ip6"
  std::string table;           // "flannel-nftd-ipv4" / "flannel-nftd-ipv6"
  std::string flanneld_table;  // flanneld's own: "flannel-ipv4" / "flannel-ipv6"
  std::string cluster;         // $C: 10.244.0.0/16
  std::string lease;           // $P: 10.244.1.0/24
  std::string bridge;          // cni0's address, the pods' gateway
  std::array<std::string, 2> pods;
  std::string uplink_node;  // the node's address towards outside: what masquerade yields
  std::string outside;
  std::string remote_link_node;
  std::string remote_link_remote;
  std::string remote_pod;  // in the other node's lease
  std::string remote_lease;
  int lan_prefix;    // prefix length of the uplink and remote links
  int lease_prefix;  // prefix length of a lease
};
const Addresses& addresses(Family family);

// `text` with every `$NAME` replaced by its value: rule and config text written out in
// full, addresses filled in.
std::string substitute(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& values);

// Who makes cni0 and the pods' links: the topology above, or the real CNI plugins as
// kubelet would (netns-tests/cni_pods.hpp), which start from a node with neither.
enum class PodLinks { made_here, by_cni };

class FlannelNode {
 public:
  explicit FlannelNode(Stack stack, PodLinks pod_links = PodLinks::made_here);
  FlannelNode(const FlannelNode&) = delete;
  FlannelNode& operator=(const FlannelNode&) = delete;

  Stack stack() const { return stack_; }
  const std::string& node() const { return node_.name(); }
  const std::string& pod(int index) const {
    return pods_.at(static_cast<std::size_t>(index)).name();
  }
  const std::string& outside() const { return outside_.name(); }
  const std::string& remote() const { return remote_.name(); }
  // flanneld's files for this node (both networks; the Stack enables families).
  const std::string& subnet_file() const { return subnet_file_; }
  const std::string& net_conf_file() const { return net_conf_file_; }

  RunResult run_in(const std::string& ns, std::vector<std::string> argv,
                   std::string_view input = {}, std::chrono::milliseconds timeout = 15s) const;
  // Throws with the command's output when it fails: for setup steps.
  RunResult run_in_checked(const std::string& ns, std::vector<std::string> argv,
                           std::string_view input = {},
                           std::chrono::milliseconds timeout = 15s) const;
  BackgroundProcess spawn_in(const std::string& ns, std::vector<std::string> argv) const;

  // `flannel-nftd VERB --net-config-path=... --subnet-file=... EXTRA...` inside the node
  // namespace (dump touches nothing, but runs there too for uniformity). Every verb gets the
  // same configuration flags.
  RunResult flannel_nftd(const std::string& verb, std::vector<std::string> extra = {}) const;
  // The desired ruleset text of `dump` with `extra` options; throws when dump fails.
  std::string dump(std::vector<std::string> extra = {}) const;

  // Installs flannel's nftables rules the way the test is not about: `flannel-nftd apply`.
  // Throws with apply's output and the node's ruleset when it fails. With the environment
  // variable FNFT_NETNS_LOAD_WITH_NFT=1 it loads `dump` with `nft -f` instead, to tell a
  // failing traffic test caused by apply from one caused by the rules themselves.
  void apply_rules() const;

  // `nft list ruleset` of the node namespace, for failure messages and comparisons.
  std::string ruleset() const;
  // A labelled block with the node's ruleset (and iptables-nft-save output when
  // `with_iptables`), to append to a failed assertion.
  std::string rules_report(bool with_iptables = false) const;

  // Routes the outside namespace to the pod and cluster networks through the node: only
  // for tests of traffic entering the cluster, since it defeats the "replies only when
  // masqueraded" property of the topology.
  void route_outside_to_pods() const;

  // What a real node has and the default topology leaves out, for the fast-path tests (the
  // flowtable binds to the default routes' uplinks and to flannel's devices):
  //  - default routes of both families through the uplink;
  //  - flannel.1, a real VXLAN device (VNI 1, port 8472, as flanneld makes it) over the
  //    to-remote link, with the remote node's end, and the IPv4 route to the remote lease
  //    through it with flanneld's static neighbour and forwarding entries.
  void add_default_routes() const;
  void use_vxlan_to_remote() const;

  // The MAC address of `device` in namespace `ns`.
  std::string mac_address(const std::string& ns, const std::string& device) const;

 private:
  void build_topology() const;
  void write_config();

  Stack stack_;
  PodLinks pod_links_;
  std::string prefix_;
  TempDir dir_;
  Namespace node_;
  std::array<Namespace, 2> pods_;
  Namespace outside_;
  Namespace remote_;
  std::string subnet_file_;
  std::string net_conf_file_;
};

}  // namespace fnft::testkit
