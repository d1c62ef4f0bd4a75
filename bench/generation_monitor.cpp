#include "bench/generation_monitor.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "netlink/netlink_messages.hpp"
#include "netlink/nfnl_socket.hpp"

namespace fnft::bench {
namespace {

// Every commit of a 10 000-transaction churn can be queued while the main thread is busy:
// ask for far more than that needs (the FORCE variant ignores net.core.rmem_max).
constexpr int kReceiveBufferBytes = 64 << 20;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void GenerationMonitor::MnlClose::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

GenerationMonitor::GenerationMonitor()
    : socket_(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!socket_) fail("monitor: open a NETLINK_NETFILTER socket");
  if (!wake_.valid()) fail("monitor: eventfd");
  if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) fail("monitor: bind");
  const int bytes = kReceiveBufferBytes;
  const int fd = mnl_socket_get_fd(socket_.get());
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  int group = NFNLGRP_NFTABLES;
  if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
    fail("monitor: subscribe to NFNLGRP_NFTABLES");
  }
  reader_ = std::thread([this] { read_loop(); });
}

GenerationMonitor::~GenerationMonitor() {
  stopping_ = true;
  // Prompt wake-up; if the write failed, the poll timeout still ends the loop.
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_.get(), &one, sizeof one);
  reader_.join();
}

void GenerationMonitor::read_loop() {
  const int fd = mnl_socket_get_fd(socket_.get());
  std::vector<char> buffer(256 * 1024);
  while (!stopping_) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    for (;;) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      // The stamp comes first: everything after it is our own overhead, not the kernel's.
      const auto received = Clock::now();
      if (n < 0) {
        if (errno == ENOBUFS) {
          const std::lock_guard lock(mutex_);
          ++overruns_;
          continue;
        }
        break;  // EAGAIN: drained
      }
      std::vector<GenerationEvent> batch;
      netlink::NetlinkMessages messages(
          std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(n))));
      while (const nlmsghdr* message = messages.next()) {
        const auto generation = netlink::parse_generation(message);
        if (!generation) continue;  // object events: only the commits matter here
        batch.push_back({generation->id, message->nlmsg_pid, generation->pid, received});
      }
      if (batch.empty()) continue;
      {
        const std::lock_guard lock(mutex_);
        events_.insert(events_.end(), batch.begin(), batch.end());
      }
      arrived_.notify_all();
    }
  }
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

std::uint64_t GenerationMonitor::overruns() const {
  const std::lock_guard lock(mutex_);
  return overruns_;
}

}  // namespace fnft::bench
