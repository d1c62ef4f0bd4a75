#include "bench/flowtable_topology.hpp"

namespace fnft::bench {
namespace {

void ip(const NamedNamespace& ns, const std::string& batch) {
  ns.run({"ip", "-batch", "-"}, batch);
}

}  // namespace

FlowtableTopology::FlowtableTopology(const std::string& prefix)
    : node_(prefix + "node"),
      pod_(prefix + "pod"),
      remote_(prefix + "remote"),
      outside_(prefix + "outside") {
  node_.run({"sysctl", "-qw", "net.ipv4.ip_forward=1"});
  ip(node_,
     "link add cni0 type bridge\n"
     "addr add 10.244.1.1/24 dev cni0\n"
     "link set cni0 up\n"
     "link add veth-pod type veth peer name eth0 netns " +
         pod_.name() +
         "\n"
         "link set veth-pod master cni0 up\n"
         "link add uplink type veth peer name eth0 netns " +
         outside_.name() +
         "\n"
         "addr add 192.0.2.1/24 dev uplink\n"
         "link set uplink up\n"
         "link add to-remote type veth peer name eth0 netns " +
         remote_.name() +
         "\n"
         "addr add 198.51.100.1/24 dev to-remote\n"
         "link set to-remote up\n"
         "route add default via 192.0.2.2\n"
         "link add flannel.1 type vxlan id 1 local 198.51.100.1 dev to-remote dstport 8472 "
         "nolearning\n"
         "addr add 10.244.1.0/32 dev flannel.1\n"
         "link set flannel.1 up\n");
  ip(pod_,
     "addr add 10.244.1.2/24 dev eth0\n"
     "link set eth0 up\n"
     "route add default via 10.244.1.1\n");
  ip(outside_,
     "addr add 192.0.2.2/24 dev eth0\n"
     "link set eth0 up\n"
     "route add 10.244.0.0/16 via 192.0.2.1\n");
  ip(remote_,
     "addr add 198.51.100.2/24 dev eth0\n"
     "link set eth0 up\n"
     "addr add 10.244.2.1/24 dev lo\n"
     "link add flannel.1 type vxlan id 1 local 198.51.100.2 dev eth0 dstport 8472 nolearning\n"
     "addr add 10.244.2.0/32 dev flannel.1\n"
     "link set flannel.1 up\n");
  const std::string node_vtep = mac(node_, "flannel.1");
  const std::string remote_vtep = mac(remote_, "flannel.1");
  ip(node_, "neigh add 10.244.2.0 lladdr " + remote_vtep + " dev flannel.1 nud permanent\n" +
                "route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n");
  node_.run({"bridge", "fdb", "add", remote_vtep, "dev", "flannel.1", "dst", "198.51.100.2"});
  ip(remote_, "neigh add 10.244.1.0 lladdr " + node_vtep + " dev flannel.1 nud permanent\n" +
                  "route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink\n");
  remote_.run({"bridge", "fdb", "add", node_vtep, "dev", "flannel.1", "dst", "198.51.100.1"});
  // The first frames must not wait for ARP: the pod's gateway and the uplink's peer.
  pod_.run({"ping", "-c", "1", "-W", "2", kRemotePod});
  pod_.run({"ping", "-c", "1", "-W", "2", kOutside});
}

std::string FlowtableTopology::mac(const NamedNamespace& ns, const std::string& device) {
  std::string text = ns.run({"cat", "/sys/class/net/" + device + "/address"});
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void FlowtableTopology::disable_segmentation_offloads() const {
  const struct {
    const NamedNamespace& ns;
    std::vector<std::string> devices;
  } all[] = {{node_, {"cni0", "veth-pod", "uplink", "to-remote", "flannel.1"}},
             {pod_, {"eth0"}},
             {remote_, {"eth0", "flannel.1"}},
             {outside_, {"eth0"}}};
  for (const auto& [ns, devices] : all) {
    for (const auto& device : devices) {
      ns.run({"ethtool", "-K", device, "gso", "off", "tso", "off", "gro", "off"});
    }
  }
}

}  // namespace fnft::bench
