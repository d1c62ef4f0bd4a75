#include "bench/udp_flows.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "testkit/network_namespace.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in ipv4_address(const std::string& address, std::uint16_t port) {
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &socket_address.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + address);
  }
  return socket_address;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

struct Flow {
  Clock::time_point last_sent;
  bool resent = false;
};

}  // namespace

UdpFlowLoad::UdpFlowLoad(UdpFlowSettings settings) : settings_(std::move(settings)) {
  {
    const testkit::InNamespace outside(settings_.outside_namespace);
    server_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  if (server_fd_ < 0) fail("echo server socket");
  const sockaddr_in address = ipv4_address(settings_.outside_address, settings_.port);
  if (::bind(server_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(server_fd_);
    fail("bind the echo server to " + settings_.outside_address);
  }
  server_ = std::thread([this] { serve(); });
  client_ = std::thread([this] { open_flows(); });
}

UdpFlowLoad::~UdpFlowLoad() {
  opening_ = false;
  resend_until_ = 0;
  if (client_.joinable()) client_.join();
  serving_ = false;
  if (server_.joinable()) server_.join();
  if (server_fd_ >= 0) ::close(server_fd_);
}

// Answers every datagram to where it came from: a masqueraded flow's answer goes to the
// node, which undoes the NAT; an unmasqueraded one's to a pod address this host has no
// route to, and is lost.
void UdpFlowLoad::serve() {
  char buffer[64];
  while (serving_) {
    pollfd ready{server_fd_, POLLIN, 0};
    if (::poll(&ready, 1, 20) <= 0) continue;
    sockaddr_in from{};
    socklen_t from_length = sizeof from;
    const ssize_t got = ::recvfrom(server_fd_, buffer, sizeof buffer, MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
    if (got <= 0) continue;
    ::sendto(server_fd_, buffer, static_cast<std::size_t>(got), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&from), from_length);
  }
}

void UdpFlowLoad::open_flows() {
  const testkit::InNamespace pod(settings_.pod_namespace);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) return;
  const sockaddr_in outside = ipv4_address(settings_.outside_address, settings_.port);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / settings_.flows_per_second));
  std::unordered_map<int, Flow> flows;
  auto next_open = Clock::now();
  auto next_resend_scan = next_open;
  const char datagram[] = "flow";
  for (;;) {
    auto now = Clock::now();
    if (opening_) {
      // Each flow its own socket, so its own source port and conntrack entry.
      for (; next_open <= now; next_open += interval) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&outside), sizeof outside) != 0 ||
            ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
          ::close(fd);
          continue;
        }
        ::send(fd, datagram, sizeof datagram, MSG_DONTWAIT);
        flows[fd] = Flow{now};
        ++counts_.opened;
      }
    } else if (flows.empty() || now.time_since_epoch().count() >= resend_until_.load()) {
      break;
    }
    if (now >= next_resend_scan) {
      for (auto& [fd, flow] : flows) {
        if (now - flow.last_sent < settings_.resend) continue;
        ::send(fd, datagram, sizeof datagram, MSG_DONTWAIT);
        flow.last_sent = now;
        flow.resent = true;
      }
      next_resend_scan = now + std::chrono::milliseconds(10);
    }
    epoll_event ready[64];
    const int count = ::epoll_wait(epoll, ready, 64, 1);
    for (int i = 0; i < count; ++i) {
      const int fd = ready[i].data.fd;
      char answer[64];
      // An ICMP error (the port not yet open) reads as an error: the flow keeps trying.
      if (::recv(fd, answer, sizeof answer, MSG_DONTWAIT) <= 0) continue;
      const auto found = flows.find(fd);
      if (found == flows.end()) continue;
      ++(found->second.resent ? counts_.answered_late : counts_.answered_first_try);
      ::close(fd);
      flows.erase(found);
    }
  }
  counts_.never_answered = flows.size();
  for (const auto& [fd, flow] : flows) ::close(fd);
  ::close(epoll);
}

UdpFlowCounts UdpFlowLoad::finish(std::chrono::milliseconds tail) {
  resend_until_ = (Clock::now() + tail).time_since_epoch().count();
  opening_ = false;
  if (client_.joinable()) client_.join();
  serving_ = false;
  if (server_.joinable()) server_.join();
  return counts_;
}

}  // namespace fnft::bench
