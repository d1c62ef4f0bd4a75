#include "testkit/netlink_subscriber.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fnft::testkit {
namespace {

constexpr int kReceiveBufferBytes = 64 << 20;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("netlink subscriber: " + what + ": " + std::strerror(errno));
}

}  // namespace

NetlinkSubscriber::NetlinkSubscriber(int bus, const std::vector<unsigned>& groups)
    : socket_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, bus)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!socket_.valid()) fail("socket(AF_NETLINK, " + std::to_string(bus) + ")");
  if (!wake_.valid()) fail("eventfd");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
    fail("bind");
  const int bytes = kReceiveBufferBytes;
  // The FORCE variant ignores net.core.rmem_max; without CAP_NET_ADMIN, take what is allowed.
  if (::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  for (const unsigned group : groups) {
    if (::setsockopt(socket_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) !=
        0) {
      fail("join group " + std::to_string(group));
    }
  }
}

NetlinkSubscriber::~NetlinkSubscriber() {
  stopping_ = true;
  if (reader_.joinable()) {
    // Prompt wake-up; if the write failed, the poll timeout still ends the loop.
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_.get(), &one, sizeof one);
    reader_.join();
  }
}

void NetlinkSubscriber::send(std::span<const std::byte> message) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(socket_.get(), message.data(), message.size(), 0,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    fail("send");
  }
}

void NetlinkSubscriber::start(Datagram on_datagram) {
  on_datagram_ = std::move(on_datagram);
  reader_ = std::thread([this] { read_loop(); });
}

void NetlinkSubscriber::read_loop() {
  std::vector<std::byte> buffer(256 * 1024);
  while (!stopping_) {
    pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    for (;;) {
      const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      // The stamp comes first: everything after it is our own overhead, not the kernel's.
      const auto received = Clock::now();
      if (n < 0) {
        if (errno == ENOBUFS) {
          ++overruns_;
          continue;
        }
        break;  // EAGAIN: drained
      }
      on_datagram_(std::span(buffer.data(), static_cast<std::size_t>(n)), received);
    }
  }
}

}  // namespace fnft::testkit
