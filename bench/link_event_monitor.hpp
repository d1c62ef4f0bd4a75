// Timestamps rtnetlink link events (RTM_NEWLINK, RTM_DELLINK) as a subscriber sees them
// (a testkit::NetlinkSubscriber, like GenerationMonitor): what a burst of pods looks like to the
// daemon. Of all of them, the ones that change the fast path's devices (state::fast_path_devices of
// the links seen, with the default routes given) are told apart: the kernel goes on sending
// others, such as operstate changes, up to a second after a burst, and past the flowtable's
// device limit new pods change nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "state/fast_path.hpp"
#include "testkit/netlink_subscriber.hpp"

struct nlmsghdr;

namespace fnft::bench {

class LinkEventMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  // Subscribes (RTMGRP_LINK, in the calling thread's network namespace) and starts reading.
  explicit LinkEventMonitor(std::vector<state::DefaultRoute> default_routes);
  ~LinkEventMonitor();
  LinkEventMonitor(const LinkEventMonitor&) = delete;
  LinkEventMonitor& operator=(const LinkEventMonitor&) = delete;

  std::uint64_t events() const { return events_; }
  // The last event after which the fast path's devices were not what they were before it.
  std::optional<Clock::time_point> last_device_set_change() const;
  std::uint64_t overruns() const { return subscriber_.overruns(); }

 private:
  void received(std::span<const std::byte> datagram, Clock::time_point at);
  void handle(const nlmsghdr* message, Clock::time_point received);

  std::atomic<std::uint64_t> events_{0};
  mutable std::mutex mutex_;
  std::optional<Clock::time_point> last_change_;
  // ifindex -> the link, from a dump at the start and every event since.
  std::map<int, state::LinkInfo> links_;
  std::vector<state::DefaultRoute> default_routes_;
  std::vector<std::string> devices_;
  testkit::NetlinkSubscriber subscriber_;  // last: its thread stops before the rest goes
};

}  // namespace fnft::bench
