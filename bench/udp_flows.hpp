// New UDP flows from a pod to the outside at a steady rate, each resent until answered: what
// a pod's DNS lookups or QUIC handshakes to the internet look like to the node. A flow whose
// first datagram left without masquerade keeps a conntrack entry without NAT, so its resends
// leave with the pod's own address and the outside, which has no route to the pods, never
// answers; the entry lives as long as the resends keep it (UDP unreplied: 30 s).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace fnft::bench {

struct UdpFlowCounts {
  std::uint64_t opened = 0;
  std::uint64_t answered_first_try = 0;  // the first datagram's answer
  std::uint64_t answered_late = 0;       // only a resend was answered
  std::uint64_t never_answered = 0;      // broken until the end of the run
};

struct UdpFlowSettings {
  std::string pod_namespace;
  std::string outside_namespace;
  std::string outside_address;  // IPv4, where the echo server listens
  std::uint16_t port = 9300;
  double flows_per_second = 500;
  std::chrono::milliseconds resend{200};
};

// The echo server runs in the outside namespace and the flows start in the pod namespace,
// each on a thread of its own, from construction until finish().
class UdpFlowLoad {
 public:
  explicit UdpFlowLoad(UdpFlowSettings settings);
  ~UdpFlowLoad();
  UdpFlowLoad(const UdpFlowLoad&) = delete;
  UdpFlowLoad& operator=(const UdpFlowLoad&) = delete;

  // Stops opening flows, keeps resending the unanswered ones for `tail`, then counts.
  UdpFlowCounts finish(std::chrono::milliseconds tail);

 private:
  void serve();
  void open_flows();

  UdpFlowSettings settings_;
  int server_fd_ = -1;
  std::atomic<bool> opening_{true};
  std::atomic<bool> serving_{true};
  // steady_clock's count up to which unanswered flows are resent, once opening stops.
  std::atomic<std::int64_t> resend_until_{INT64_MAX};
  UdpFlowCounts counts_;
  std::thread server_;
  std::thread client_;
};

}  // namespace fnft::bench
