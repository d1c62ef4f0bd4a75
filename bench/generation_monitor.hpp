// Timestamps nf_tables commits as a subscriber sees them: a netlink socket of its own
// (NETLINK_NETFILTER, NFNLGRP_NFTABLES, kernel-assigned portid), read by a dedicated thread
// that stamps each NEWGEN with CLOCK_MONOTONIC as soon as recvmsg returns it. The kernel
// puts no receive timestamp on netlink messages (SO_TIMESTAMPNS yields no control message),
// and a thread that does nothing but wait is the closest thing to one: the main thread is
// busy reading its own acks when the events arrive.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/process/unique_fd.hpp"

struct mnl_socket;

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

  // Subscribes at once and starts the reader thread.
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
  std::uint64_t overruns() const;

 private:
  void read_loop();

  struct MnlClose {
    void operator()(mnl_socket* socket) const;
  };
  std::unique_ptr<mnl_socket, MnlClose> socket_;
  UniqueFd wake_;                      // eventfd: wakes the reader thread for shutdown
  std::atomic<bool> stopping_{false};  // checked at least every 100 ms as well
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<GenerationEvent> events_;
  std::uint64_t overruns_ = 0;
  std::thread reader_;
};

}  // namespace fnft::bench
