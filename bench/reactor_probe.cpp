#include "bench/reactor_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "bench/stats.hpp"
#include "testkit/network_namespace.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// One GET /healthz on a fresh connection; whether a status line came back.
bool get_healthz(const sockaddr_in& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool answered = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    constexpr std::string_view request = "GET /healthz HTTP/1.0\r\nHost: probe\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[512];
      std::string reply;
      for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
        reply.append(buffer, static_cast<std::size_t>(got));
      answered = reply.rfind("HTTP/1.", 0) == 0;
    }
  }
  ::close(fd);
  return answered;
}

}  // namespace

ReactorProbe::ReactorProbe(std::string ns, std::string address, std::uint16_t port)
    : ns_(std::move(ns)), address_(std::move(address)), port_(port) {
  thread_ = std::thread([this] { ask(); });
}

ReactorProbe::~ReactorProbe() {
  finish();
}

void ReactorProbe::ask() {
  const testkit::InNamespace inside(ns_);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  ::inet_pton(AF_INET, address_.c_str(), &address.sin_addr);
  std::vector<double> waits;
  while (asking_) {
    const auto asked = Clock::now();
    const bool answered = get_healthz(address);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - asked).count();
    if (answered) {
      waits.push_back(ms);
    } else {
      ++waits_.failures;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const Summary summary = summarize(waits);
  waits_.answers = summary.count;
  waits_.longest_ms = summary.max;
  waits_.median_ms = summary.median;
}

ReactorProbe::Waits ReactorProbe::finish() {
  asking_ = false;
  if (thread_.joinable()) thread_.join();
  return waits_;
}

}  // namespace fnft::bench
