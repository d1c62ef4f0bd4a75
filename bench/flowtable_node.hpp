// The node bench/flowtable forwards through: testkit's FlannelNode (IPv4 rules) with what a
// real node adds for the fast path (default routes through the uplink, flanneld's VXLAN
// device flannel.1 to the remote node), the outside routing the cluster back through the
// node so traffic also flows with no rules (the baseline), GSO, TSO and GRO off everywhere
// so TCP segments cross it one by one and its per-packet cost shows, and pktgen's frames
// counted and dropped at the far side's ingress. It installs each setup and measures one
// path of it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "testkit/flannel_node.hpp"
#include "testkit/temp_dir.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {

enum class Setup { no_rules, bare_flowtable, daemon, daemon_fast_path };
inline constexpr Setup kSetups[] = {Setup::no_rules, Setup::bare_flowtable, Setup::daemon,
                                    Setup::daemon_fast_path};
std::string name_of(Setup setup);

class FlowtableNode {
 public:
  FlowtableNode(std::string daemon_binary, long frames, int tcp_seconds);

  const testkit::FlannelNode& node() const { return node_; }
  // The devices the daemon's flowtable binds, as it picks them from the node's links.
  const std::vector<std::string>& devices() const { return devices_; }

  // Installs `setup`, runs `measure`, removes it again.
  template <typename Measure>
  void with(Setup setup, const Measure& measure) {
    install(setup);
    measure();
    remove(setup);
  }

  // `flannel-nftd run` in the node (with --flowtable=required when `fast_path`), once it
  // watches for changes; its log goes to `log`.
  std::unique_ptr<testkit::TrackedProcess> start_daemon(bool fast_path,
                                                        std::filesystem::path* log = nullptr);
  void cleanup_daemon_rules() const;

  // Delivered frames per second from the pod to the remote pod (through flannel.1) or to
  // the outside (through the uplink, masqueraded by the daemon's setups).
  double pktgen_frames_per_second(bool to_remote);
  // iperf3 from the pod to the remote pod or the outside, in Mbit/s received.
  double tcp_mbits(bool to_remote);

  // The number of devices in our table's flowtable, as `nft list` shows it.
  std::size_t flowtable_device_count() const;

 private:
  void install(Setup setup);
  void remove(Setup setup);
  std::pair<std::string, int> reply_destination(const std::string& destination) const;
  long sink_packets(const std::string& ns) const;

  std::string daemon_binary_;
  long frames_;
  int tcp_seconds_;
  testkit::FlannelNode node_;
  testkit::TempDir logs_;
  std::vector<std::string> devices_;
  std::unique_ptr<testkit::TrackedProcess> daemon_;  // of the setup installed, if any
  int daemons_ = 0;
};

}  // namespace fnft::bench
