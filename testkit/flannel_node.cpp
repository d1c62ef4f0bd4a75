#include "testkit/flannel_node.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace fnft::testkit {
namespace {

const Addresses kIpv4{
    .nft_family = "ip",
    .table = "flannel-nftd-ipv4",
    .flanneld_table = "flannel-ipv4",
    .cluster = "10.244.0.0/16",
    .lease = "10.244.1.0/24",
    .bridge = "10.244.1.1",
    .pods = {"10.244.1.2", "10.244.1.3"},
    .uplink_node = "192.0.2.1",
    .outside = "192.0.2.2",
    .remote_link_node = "198.51.100.1",
    .remote_link_remote = "198.51.100.2",
    .remote_pod = "10.244.2.1",
    .remote_lease = "10.244.2.0/24",
    .lan_prefix = 24,
    .lease_prefix = 24,
};

const Addresses kIpv6{
    .nft_family = "ip6",
    .table = "flannel-nftd-ipv6",
    .flanneld_table = "flannel-ipv6",
    .cluster = "fd00:10:244::/56",
    .lease = "fd00:10:244:1::/64",
    .bridge = "fd00:10:244:1::1",
    .pods = {"fd00:10:244:1::2", "fd00:10:244:1::3"},
    .uplink_node = "2001:db8:1::1",
    .outside = "2001:db8:1::2",
    .remote_link_node = "2001:db8:2::1",
    .remote_link_remote = "2001:db8:2::2",
    .remote_pod = "fd00:10:244:2::1",
    .remote_lease = "fd00:10:244:2::/64",
    .lan_prefix = 64,
    .lease_prefix = 64,
};

std::string with_prefix(const std::string& address, int prefix) {
  return address + "/" + std::to_string(prefix);
}

// `ip` arguments that add `address/prefix` to `device`; IPv6 addresses skip duplicate
// address detection, so they are usable at once and no test waits for DAD.
std::vector<std::string> add_address(Family family, const std::string& address, int prefix,
                                     const std::string& device) {
  std::vector<std::string> argv = {"ip",  "addr", "add", with_prefix(address, prefix),
                                   "dev", device};
  if (family == Family::ipv6) argv.push_back("nodad");
  return argv;
}

}  // namespace

std::string to_string(Stack stack) {
  switch (stack) {
    case Stack::ipv4: return "IPv4";
    case Stack::ipv6: return "IPv6";
    case Stack::dual: return "DualStack";
  }
  return "?";
}

std::string to_string(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

std::vector<Family> families(Stack stack) {
  switch (stack) {
    case Stack::ipv4: return {Family::ipv4};
    case Stack::ipv6: return {Family::ipv6};
    case Stack::dual: return {Family::ipv4, Family::ipv6};
  }
  return {};
}

const Addresses& addresses(Family family) {
  return family == Family::ipv4 ? kIpv4 : kIpv6;
}

std::string substitute(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at)) {
      text.replace(at, name.size(), value);
      at += value.size();
    }
  }
  return text;
}

FlannelNode::FlannelNode(Stack stack, PodLinks pod_links)
    : stack_(stack),
      pod_links_(pod_links),
      prefix_(unique_prefix()),
      node_(prefix_ + "node"),
      pods_{Namespace(prefix_ + "pod1"), Namespace(prefix_ + "pod2")},
      outside_(prefix_ + "outside"),
      remote_(prefix_ + "remote") {
  // A throw from here on still destroys every member already built: no namespace leaks.
  build_topology();
  write_config();
}

void FlannelNode::build_topology() const {
  auto ip = [](const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin() + 1, {"-n", ns});
    run_checked(argv);
  };
  for (const auto& ns : {node(), pod(0), pod(1), outside(), remote()}) {
    // No duplicate address detection for the links about to be made, link-local addresses
    // included: `nodad` covers only the addresses we add, and a tentative link-local
    // address held up neighbour discovery for ~2 s. Per-namespace sysctls, like the node's
    // forwarding switches.
    std::vector<std::string> sysctl = {"sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
                                       "net.ipv6.conf.default.accept_dad=0"};
    if (ns == node()) {
      sysctl.insert(sysctl.end(), {"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"});
    }
    run_in_checked(ns, sysctl);
  }

  // The CNI bridge and two pods on it, unless the CNI plugins make them.
  if (pod_links_ == PodLinks::made_here) {
    ip(node(), {"ip", "link", "add", "cni0", "type", "bridge"});
    for (const Family family : {Family::ipv4, Family::ipv6}) {
      const Addresses& a = addresses(family);
      ip(node(), add_address(family, a.bridge, a.lease_prefix, "cni0"));
    }
    ip(node(), {"ip", "link", "set", "cni0", "up"});
    for (int i = 0; i < 2; ++i) {
      const std::string veth = "veth-pod" + std::to_string(i + 1);
      // Created from inside the node namespace with the peer placed straight into the pod's:
      // no link ever exists in the root namespace, not even briefly.
      ip(node(),
         {"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod(i)});
      ip(node(), {"ip", "link", "set", veth, "master", "cni0", "up"});
      for (const Family family : {Family::ipv4, Family::ipv6}) {
        const Addresses& a = addresses(family);
        ip(pod(i),
           add_address(family, a.pods[static_cast<std::size_t>(i)], a.lease_prefix, "eth0"));
      }
      ip(pod(i), {"ip", "link", "set", "eth0", "up"});
      ip(pod(i), {"ip", "-4", "route", "add", "default", "via", kIpv4.bridge});
      ip(pod(i), {"ip", "-6", "route", "add", "default", "via", kIpv6.bridge});
    }
  }

  // The uplink. Outside gets no route to the pod or cluster networks: a reply reaches a
  // pod only when the request was masqueraded to the uplink address.
  ip(node(),
     {"ip", "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", outside()});
  // The other node: its link, its pod subnet (on lo: this kernel has no dummy driver), and
  // the routes flannel would install between the two leases.
  ip(node(),
     {"ip", "link", "add", "to-remote", "type", "veth", "peer", "name", "eth0", "netns", remote()});
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const Addresses& a = addresses(family);
    ip(node(), add_address(family, a.uplink_node, a.lan_prefix, "uplink"));
    ip(outside(), add_address(family, a.outside, a.lan_prefix, "eth0"));
    ip(node(), add_address(family, a.remote_link_node, a.lan_prefix, "to-remote"));
    ip(remote(), add_address(family, a.remote_link_remote, a.lan_prefix, "eth0"));
    ip(remote(), add_address(family, a.remote_pod, a.lease_prefix, "lo"));
  }
  ip(node(), {"ip", "link", "set", "uplink", "up"});
  ip(node(), {"ip", "link", "set", "to-remote", "up"});
  ip(outside(), {"ip", "link", "set", "eth0", "up"});
  ip(remote(), {"ip", "link", "set", "eth0", "up"});
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const Addresses& a = addresses(family);
    ip(node(), {"ip", "route", "add", a.remote_lease, "via", a.remote_link_remote});
    ip(remote(), {"ip", "route", "add", a.lease, "via", a.remote_link_node});
  }
}

void FlannelNode::write_config() {
  subnet_file_ = dir_.write("subnet.env", R"(FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.1.1/24
FLANNEL_IPV6_NETWORK=fd00:10:244::/56
FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64
FLANNEL_MTU=1450
FLANNEL_IPMASQ=false
)");
  // Both networks always; the Stack decides which families are enabled.
  const std::string net_conf = R"({
  "Network": "10.244.0.0/16",
  "IPv6Network": "fd00:10:244::/56",
  "EnableIPv4": $V4,
  "EnableIPv6": $V6,
  "EnableNFTables": true,
  "Backend": {"Type": "vxlan"}
}
)";
  net_conf_file_ = dir_.write(
      "net-conf.json", substitute(net_conf, {{"$V4", stack_ != Stack::ipv6 ? "true" : "false"},
                                             {"$V6", stack_ != Stack::ipv4 ? "true" : "false"}}));
}

RunResult FlannelNode::run_in(const std::string& ns, std::vector<std::string> argv,
                              std::string_view input, std::chrono::milliseconds timeout) const {
  return run(in_namespace(ns, std::move(argv)), input, timeout);
}

RunResult FlannelNode::run_in_checked(const std::string& ns, std::vector<std::string> argv,
                                      std::string_view input,
                                      std::chrono::milliseconds timeout) const {
  return run_checked(in_namespace(ns, std::move(argv)), input, timeout);
}

BackgroundProcess FlannelNode::spawn_in(const std::string& ns,
                                        std::vector<std::string> argv) const {
  return BackgroundProcess(in_namespace(ns, std::move(argv)));
}

RunResult FlannelNode::flannel_nftd(const std::string& verb, std::vector<std::string> extra) const {
  // Every verb gets the same configuration flags, as a unit's ExecStart and ExecStopPost
  // would pass them (cleanup reads no lease but takes the flag).
  std::vector<std::string> argv = {FNFT_BINARY, verb, "--net-config-path=" + net_conf_file_,
                                   "--subnet-file=" + subnet_file_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_in(node(), std::move(argv));
}

std::string FlannelNode::dump(std::vector<std::string> extra) const {
  const RunResult result = flannel_nftd("dump", std::move(extra));
  if (!result.ok()) throw std::runtime_error("flannel-nftd dump failed:\n" + result.describe());
  return result.out;
}

void FlannelNode::apply_rules() const {
  const char* load_with_nft = std::getenv("FNFT_NETNS_LOAD_WITH_NFT");
  if (load_with_nft != nullptr && std::string(load_with_nft) == "1") {
    run_in_checked(node(), {"nft", "-f", "-"}, dump({"--mode=nftables"}));
    return;
  }
  const RunResult result = flannel_nftd("apply", {"--mode=nftables"});
  if (!result.ok()) {
    throw std::runtime_error("flannel-nftd apply failed:\n" + result.describe() + rules_report());
  }
}

std::string FlannelNode::ruleset() const {
  const RunResult result = run_in(node(), {"nft", "list", "ruleset"});
  return result.ok() ? result.out : result.describe();
}

std::string FlannelNode::rules_report(bool with_iptables) const {
  std::string text = "\n--- nft list ruleset (node namespace " + node() + ") ---\n" + ruleset();
  if (with_iptables) {
    for (const char* save : {"iptables-nft-save", "ip6tables-nft-save"}) {
      text += std::string("--- ") + save + " ---\n" + run_in(node(), {save}).out;
    }
  }
  return text;
}

void FlannelNode::route_outside_to_pods() const {
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const Addresses& a = addresses(family);
    run_checked({"ip", "-n", outside(), "route", "add", a.cluster, "via", a.uplink_node});
  }
}

void FlannelNode::add_default_routes() const {
  for (const Family family : {Family::ipv4, Family::ipv6}) {
    run_checked({"ip", "-n", node(), family == Family::ipv4 ? "-4" : "-6", "route", "add",
                 "default", "via", addresses(family).outside, "dev", "uplink"});
  }
}

void FlannelNode::use_vxlan_to_remote() const {
  const Addresses& a = addresses(Family::ipv4);
  // Each end's VTEP: flannel.1 with the first address of its lease as a /32.
  struct End {
    std::string ns, underlay_device, underlay, lease_address, other_lease, other_lease_address,
        other_underlay;
  };
  const End ends[] = {
      {node(), "to-remote", a.remote_link_node, "10.244.1.0", a.remote_lease, "10.244.2.0",
       a.remote_link_remote},
      {remote(), "eth0", a.remote_link_remote, "10.244.2.0", a.lease, "10.244.1.0",
       a.remote_link_node},
  };
  for (const End& end : ends) {
    run_checked({"ip", "-n", end.ns, "link", "add", "flannel.1", "type", "vxlan", "id", "1",
                 "local", end.underlay, "dev", end.underlay_device, "dstport", "8472",
                 "nolearning"});
  }
  for (const End& end : ends) {
    run_checked({"ip", "-n", end.ns, "addr", "add", end.lease_address + "/32", "dev", "flannel.1"});
    run_checked({"ip", "-n", end.ns, "link", "set", "flannel.1", "up"});
  }
  const std::string macs[] = {mac_address(node(), "flannel.1"), mac_address(remote(), "flannel.1")};
  for (int i = 0; i < 2; ++i) {
    const End& end = ends[i];
    const std::string& other_mac = macs[1 - i];
    run_checked({"ip", "-n", end.ns, "neigh", "add", end.other_lease_address, "lladdr", other_mac,
                 "dev", "flannel.1", "nud", "permanent"});
    run_checked({"bridge", "-n", end.ns, "fdb", "add", other_mac, "dev", "flannel.1", "dst",
                 end.other_underlay});
    run_checked({"ip", "-n", end.ns, "route", "replace", end.other_lease, "via",
                 end.other_lease_address, "dev", "flannel.1", "onlink"});
  }
}

std::string FlannelNode::mac_address(const std::string& ns, const std::string& device) const {
  std::string mac = run_in_checked(ns, {"cat", "/sys/class/net/" + device + "/address"}).out;
  while (!mac.empty() && (mac.back() == '\n' || mac.back() == ' ')) mac.pop_back();
  return mac;
}

}  // namespace fnft::testkit
