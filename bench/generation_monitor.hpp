// Timestamps nf_tables commits as a subscriber sees them: NFNLGRP_NFTABLES read by a
// testkit::NetlinkSubscriber, whose thread stamps each NEWGEN as soon as recv returns it
// (the main thread is busy reading its own acks when the events arrive).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "testkit/netlink_subscriber.hpp"

namespace fnft::bench {

struct GenerationEvent {
  std::uint32_t generation = 0;
  std::uint32_t portid = 0;  // netlink port of the committing socket
  std::uint32_t pid = 0;     // committing process (NFTA_GEN_PROC_PID)
  std::chrono::steady_clock::time_point received;
};

class GenerationMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  using Predicate = std::function<bool(const GenerationEvent&)>;

  // Subscribes at once (in the calling thread's network namespace) and starts reading.
  GenerationMonitor();
  ~GenerationMonitor();
  GenerationMonitor(const GenerationMonitor&) = delete;
  GenerationMonitor& operator=(const GenerationMonitor&) = delete;

  // Consumes events in commit order until one matches `predicate`, which is returned;
  // `skipped` (if given) sees each event consumed on the way. nullopt at `deadline`.
  std::optional<GenerationEvent> wait_for(
      const Predicate& predicate, Clock::time_point deadline,
      const std::function<void(const GenerationEvent&)>& skipped = {});
  // Consumes everything queued so far, passing each event to `visit`.
  void drain(const std::function<void(const GenerationEvent&)>& visit);
  // Events lost because the socket's buffer overflowed (ENOBUFS).
  std::uint64_t overruns() const { return subscriber_.overruns(); }

 private:
  void received(std::span<const std::byte> datagram, Clock::time_point at);

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<GenerationEvent> events_;
  testkit::NetlinkSubscriber subscriber_;  // last: its thread stops before the rest goes
};

}  // namespace fnft::bench
