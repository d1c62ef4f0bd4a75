#include "bench/flowtable_node.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "bench/pktgen.hpp"
#include "netlink/link_watcher.hpp"
#include "state/fast_path.hpp"
#include "testkit/network_namespace.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testkit::Family;

constexpr int kSinkPort = 10001;
constexpr int kSourcePort = 10000;

const testkit::Addresses& ipv4() {
  return testkit::addresses(Family::ipv4);
}

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string name_of(Setup setup) {
  switch (setup) {
    case Setup::no_rules: return "no rules";
    case Setup::bare_flowtable: return "bare flowtable";
    case Setup::daemon: return "flannel-nftd";
    case Setup::daemon_fast_path: return "flannel-nftd --flowtable";
  }
  return "?";
}

FlowtableNode::FlowtableNode(std::string daemon_binary, long frames, int tcp_seconds)
    : daemon_binary_(std::move(daemon_binary)),
      frames_(frames),
      tcp_seconds_(tcp_seconds),
      node_(testkit::Stack::ipv4) {
  node_.add_default_routes();
  node_.use_vxlan_to_remote();
  node_.route_outside_to_pods();
  const struct {
    std::string ns;
    std::vector<std::string> devices;
  } all[] = {{node_.node(), {"cni0", "veth-pod1", "veth-pod2", "uplink", "to-remote", "flannel.1"}},
             {node_.pod(0), {"eth0"}},
             {node_.pod(1), {"eth0"}},
             {node_.remote(), {"eth0", "flannel.1"}},
             {node_.outside(), {"eth0"}}};
  for (const auto& [ns, devices] : all) {
    for (const auto& device : devices) {
      node_.run_in_checked(ns, {"ethtool", "-K", device, "gso", "off", "tso", "off", "gro", "off"});
    }
  }
  // pktgen's frames end at the far side's ingress: counted and dropped there.
  for (const auto& [ns, device] :
       {std::pair{node_.remote(), "flannel.1"}, {node_.outside(), "eth0"}}) {
    node_.run_in_checked(ns, {"nft", "-f", "-"},
                         "table netdev sink {\n  chain in {\n    type filter hook ingress device " +
                             std::string(device) + " priority 0;\n    udp dport " +
                             std::to_string(kSinkPort) + " counter drop\n  }\n}\n");
  }
  // The first frames must not wait for ARP: the pod's gateway and the uplink's peer.
  node_.run_in_checked(node_.pod(0), {"ping", "-c", "1", "-W", "2", ipv4().remote_pod});
  node_.run_in_checked(node_.pod(0), {"ping", "-c", "1", "-W", "2", ipv4().outside});
  const testkit::InNamespace inside(node_.node());
  const netlink::LinkWatcher links;
  devices_ = state::fast_path_devices(links.links(), links.default_routes(), {});
}

void FlowtableNode::install(Setup setup) {
  if (setup == Setup::bare_flowtable) {
    std::string list;
    for (const auto& device : devices_) list += (list.empty() ? "" : ", ") + device;
    node_.run_in_checked(
        node_.node(), {"nft", "-f", "-"},
        "table ip bare {\n  flowtable f { hook ingress priority filter; devices = { " + list +
            " }; counter; }\n  chain forward {\n    type filter hook forward "
            "priority filter; policy accept;\n    ip saddr " +
            ipv4().cluster + " ct state established flow add @f\n  }\n}\n");
  } else if (setup != Setup::no_rules) {
    daemon_ = start_daemon(setup == Setup::daemon_fast_path);
  }
}

void FlowtableNode::remove(Setup setup) {
  if (daemon_) {
    daemon_->stop();
    daemon_.reset();
    cleanup_daemon_rules();
  } else if (setup == Setup::bare_flowtable) {
    node_.run_in_checked(node_.node(), {"nft", "delete", "table", "ip", "bare"});
  }
}

std::unique_ptr<testkit::TrackedProcess> FlowtableNode::start_daemon(bool fast_path,
                                                                     std::filesystem::path* log) {
  const std::filesystem::path file =
      std::filesystem::path(logs_.path()) / ("daemon-" + std::to_string(++daemons_) + ".log");
  std::vector<std::string> argv = {daemon_binary_, "run", "--subnet-file=" + node_.subnet_file(),
                                   "--net-config-path=" + node_.net_conf_file(),
                                   "--log-level=info"};
  if (fast_path) argv.push_back("--flowtable=required");
  std::unique_ptr<testkit::TrackedProcess> daemon;
  {
    const testkit::InNamespace inside(node_.node());
    daemon = std::make_unique<testkit::TrackedProcess>(argv, file.string(), SIGTERM,
                                                       testkit::OutputFile::append);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (read(file).find("watching for changes") == std::string::npos) {
    if (!daemon->running() || Clock::now() > deadline) {
      throw std::runtime_error("flannel-nftd did not get ready (" + daemon->exit_status() + "):\n" +
                               read(file));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (log != nullptr) *log = file;
  return daemon;
}

void FlowtableNode::cleanup_daemon_rules() const {
  node_.run_in_checked(node_.node(), {daemon_binary_, "cleanup", "--mode=nftables"});
}

long FlowtableNode::sink_packets(const std::string& ns) const {
  const std::string listed =
      node_.run_in_checked(ns, {"nft", "list", "chain", "netdev", "sink", "in"}).out;
  static const std::regex packets(R"(packets (\d+))");
  std::smatch match;
  return std::regex_search(listed, match, packets) ? std::stol(match[1].str()) : 0;
}

// The flow is made established first, one frame each way, as any real flow is before it can
// be offloaded; the answer goes where conntrack's reply tuple says (the masqueraded port, if
// any).
double FlowtableNode::pktgen_frames_per_second(bool to_remote) {
  const std::string& far = to_remote ? node_.remote() : node_.outside();
  const std::string destination = to_remote ? ipv4().remote_pod : ipv4().outside;
  const std::string& pod_address = ipv4().pods[0];
  node_.run_in_checked(node_.node(), {"conntrack", "-F"});
  const PktgenFlow out{"eth0",      pod_address,
                       destination, node_.mac_address(node_.node(), "cni0"),
                       kSourcePort, kSinkPort};
  pktgen_send(node_.pod(0), out, 1);
  const auto [reply_address, reply_port] = reply_destination(destination);
  const PktgenFlow back{to_remote ? "flannel.1" : "eth0",
                        destination,
                        reply_address,
                        node_.mac_address(node_.node(), to_remote ? "flannel.1" : "uplink"),
                        kSinkPort,
                        reply_port};
  pktgen_send(far, back, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const long before = sink_packets(far);
  const double micros = pktgen_send(node_.pod(0), out, frames_);
  const long delivered = sink_packets(far) - before;
  if (std::getenv("FNFT_BENCH_DEBUG") != nullptr) {
    std::cerr << node_.run_in(node_.node(), {"conntrack", "-L", "-p", "udp"}).out
              << node_.ruleset();
  }
  return static_cast<double>(delivered) / micros * 1e6;
}

// Where the far side's answer to the pod's first frame must go: conntrack's reply tuple, or
// the pod itself where no rule needs conntrack (the node without rules tracks nothing).
std::pair<std::string, int> FlowtableNode::reply_destination(const std::string& destination) const {
  const std::string& pod_address = ipv4().pods[0];
  const std::string listed =
      node_
          .run_in(node_.node(), {"conntrack", "-L", "-p", "udp", "--orig-src", pod_address,
                                 "--orig-dst", destination})
          .out;
  if (listed.find("src=") == std::string::npos) return {pod_address, kSourcePort};
  static const std::regex reply(R"(dport=\d+ .*?src=\S+ dst=(\S+) sport=\d+ dport=(\d+))");
  std::smatch match;
  if (!std::regex_search(listed, match, reply)) {
    throw std::runtime_error("cannot read the reply tuple of the pod's frame to " + destination +
                             ":\n" + listed);
  }
  return {match[1].str(), std::stoi(match[2].str())};
}

double FlowtableNode::tcp_mbits(bool to_remote) {
  const std::string& server = to_remote ? node_.remote() : node_.outside();
  const std::string address = to_remote ? ipv4().remote_pod : ipv4().outside;
  testkit::BackgroundProcess listening(
      testkit::in_namespace(server, {"iperf3", "-s", "-1", "-B", address, "-p", "5201"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto client = node_.run_in(
      node_.pod(0),
      {"iperf3", "-c", address, "-p", "5201", "-t", std::to_string(tcp_seconds_), "-J"}, {},
      std::chrono::seconds(tcp_seconds_ + 30));
  listening.finish(std::chrono::seconds(10));
  if (!client.ok())
    throw std::runtime_error("iperf3 to " + address + " failed: " + client.describe());
  const auto result = nlohmann::json::parse(client.out);
  return result.at("end").at("sum_received").at("bits_per_second").get<double>() / 1e6;
}

std::size_t FlowtableNode::flowtable_device_count() const {
  const std::string listed =
      node_.run_in_checked(node_.node(), {"nft", "list", "table", "ip", "flannel-nftd-ipv4"}).out;
  // Plain string search: libstdc++'s std::regex gives up on lists this long.
  const std::size_t open = listed.find("devices = { ");
  const std::size_t close = open == std::string::npos ? open : listed.find(" }", open);
  if (close == std::string::npos) return 0;
  return static_cast<std::size_t>(std::count(listed.begin() + static_cast<std::ptrdiff_t>(open),
                                             listed.begin() + static_cast<std::ptrdiff_t>(close),
                                             ',')) +
         1;
}

}  // namespace fnft::bench
