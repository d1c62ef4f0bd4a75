#include "bench/link_event_monitor.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
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

namespace fnft::bench {
namespace {

// A 1000-veth burst is several thousand messages of a kilobyte or two.
constexpr int kReceiveBufferBytes = 64 << 20;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void LinkEventMonitor::MnlClose::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

LinkEventMonitor::LinkEventMonitor(std::vector<state::DefaultRoute> default_routes)
    : socket_(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      default_routes_(std::move(default_routes)) {
  if (!socket_) fail("link monitor: open a NETLINK_ROUTE socket");
  if (!wake_.valid()) fail("link monitor: eventfd");
  if (mnl_socket_bind(socket_.get(), RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
    fail("link monitor: bind to RTMGRP_LINK");
  }
  const int bytes = kReceiveBufferBytes;
  const int fd = mnl_socket_get_fd(socket_.get());
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  // The links there are now, so that a link event is known for what it changes.
  std::vector<char> request(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* dump = mnl_nlmsg_put_header(request.data());
  dump->nlmsg_type = RTM_GETLINK;
  dump->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(dump, sizeof(ifinfomsg)));
  info->ifi_family = AF_UNSPEC;
  if (mnl_socket_sendto(socket_.get(), dump, dump->nlmsg_len) < 0) fail("link monitor: dump");
  reader_ = std::thread([this] { read_loop(); });
}

LinkEventMonitor::~LinkEventMonitor() {
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_.get(), &one, sizeof one);
  reader_.join();
}

std::optional<LinkEventMonitor::Clock::time_point> LinkEventMonitor::last_device_set_change()
    const {
  const std::lock_guard lock(mutex_);
  return last_change_;
}

void LinkEventMonitor::handle(const nlmsghdr* message, Clock::time_point received) {
  if (message->nlmsg_type != RTM_NEWLINK && message->nlmsg_type != RTM_DELLINK) return;
  if (mnl_nlmsg_get_payload_len(message) < sizeof(ifinfomsg)) return;
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  if (info->ifi_family != AF_UNSPEC) return;  // the bridge's per-port copies
  ++events_;
  std::string name;
  int master = 0;
  const nlattr* attr = nullptr;
  const std::size_t skip = MNL_ALIGN(sizeof(ifinfomsg));
  for (attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, skip)); mnl_attr_ok(
           attr, static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(message)) -
                                  reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == IFLA_IFNAME) name = mnl_attr_get_str(attr);
    if (mnl_attr_get_type(attr) == IFLA_MASTER) master = static_cast<int>(mnl_attr_get_u32(attr));
  }
  const std::lock_guard lock(mutex_);
  if (message->nlmsg_type == RTM_DELLINK) {
    if (links_.erase(info->ifi_index) == 0) return;
  } else {
    const state::LinkInfo link{info->ifi_index, name, master};
    auto [at, inserted] = links_.try_emplace(info->ifi_index, link);
    if (!inserted && at->second == link) return;
    at->second = link;
  }
  std::vector<state::LinkInfo> links;
  for (const auto& [ifindex, link] : links_) links.push_back(link);
  auto devices = state::fast_path_devices(links, default_routes_, {});
  if (devices == devices_) return;
  devices_ = std::move(devices);
  last_change_ = received;
}

void LinkEventMonitor::read_loop() {
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
      const auto received = Clock::now();
      if (n < 0) {
        if (errno == ENOBUFS) {
          ++overruns_;
          continue;
        }
        break;
      }
      netlink::NetlinkMessages messages(
          std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(n))));
      while (const nlmsghdr* message = messages.next()) {
        handle(message, received);
      }
    }
  }
}

}  // namespace fnft::bench
