// A subscriber to kernel netlink events on a thread of its own, which stamps every datagram
// with CLOCK_MONOTONIC as soon as recv returns it: the kernel puts no receive timestamp on
// netlink messages (SO_TIMESTAMPNS yields no control message), and a thread that does nothing
// but wait is the closest thing to one. The benchmarks' monitors of nf_tables commits and of
// link events read through it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <thread>
#include <vector>

#include "daemon/process/unique_fd.hpp"

namespace fnft::testkit {

class NetlinkSubscriber {
 public:
  using Clock = std::chrono::steady_clock;
  // Called on the reader thread with each datagram as received (one or more messages).
  using Datagram = std::function<void(std::span<const std::byte>, Clock::time_point)>;

  // Opens a `bus` socket (NETLINK_NETFILTER, NETLINK_ROUTE) in the calling thread's network
  // namespace with a kernel-assigned port and a 64 MiB receive buffer (bursts of thousands
  // of events queue while the caller is busy), and joins `groups`. Reading starts with
  // start(). Throws std::runtime_error naming the step that failed.
  NetlinkSubscriber(int bus, const std::vector<unsigned>& groups);
  ~NetlinkSubscriber();
  NetlinkSubscriber(const NetlinkSubscriber&) = delete;
  NetlinkSubscriber& operator=(const NetlinkSubscriber&) = delete;

  // Sends a request (a dump of what exists now) whose answers arrive with the events.
  void send(std::span<const std::byte> message);
  void start(Datagram on_datagram);
  // Datagrams lost because the receive buffer overflowed (ENOBUFS).
  std::uint64_t overruns() const { return overruns_; }

 private:
  void read_loop();

  UniqueFd socket_;
  UniqueFd wake_;                      // eventfd: wakes the reader for shutdown
  std::atomic<bool> stopping_{false};  // checked at least every 100 ms as well
  std::atomic<std::uint64_t> overruns_{0};
  Datagram on_datagram_;
  std::thread reader_;
};

}  // namespace fnft::testkit
