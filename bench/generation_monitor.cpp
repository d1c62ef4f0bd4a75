#include "bench/generation_monitor.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <vector>

#include "netlink/netlink_messages.hpp"
#include "netlink/nfnl_socket.hpp"

namespace fnft::bench {

GenerationMonitor::GenerationMonitor() : subscriber_(NETLINK_NETFILTER, {NFNLGRP_NFTABLES}) {
  subscriber_.start([this](std::span<const std::byte> datagram, Clock::time_point at) {
    received(datagram, at);
  });
}

GenerationMonitor::~GenerationMonitor() = default;

void GenerationMonitor::received(std::span<const std::byte> datagram, Clock::time_point at) {
  std::vector<GenerationEvent> batch;
  netlink::NetlinkMessages messages(datagram);
  while (const nlmsghdr* message = messages.next()) {
    const auto generation = netlink::parse_generation(message);
    if (!generation) continue;  // object events: only the commits matter here
    batch.push_back({generation->id, message->nlmsg_pid, generation->pid, at});
  }
  if (batch.empty()) return;
  {
    const std::lock_guard lock(mutex_);
    events_.insert(events_.end(), batch.begin(), batch.end());
  }
  arrived_.notify_all();
}

std::optional<GenerationEvent> GenerationMonitor::wait_for(
    const Predicate& predicate, Clock::time_point deadline,
    const std::function<void(const GenerationEvent&)>& skipped) {
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!events_.empty()) {
      const GenerationEvent event = events_.front();
      events_.pop_front();
      if (predicate(event)) return event;
      if (skipped) skipped(event);
    }
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout && events_.empty()) {
      return std::nullopt;
    }
  }
}

void GenerationMonitor::drain(const std::function<void(const GenerationEvent&)>& visit) {
  std::deque<GenerationEvent> taken;
  {
    const std::lock_guard lock(mutex_);
    taken.swap(events_);
  }
  for (const auto& event : taken) visit(event);
}

}  // namespace fnft::bench
