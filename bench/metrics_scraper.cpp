#include "bench/metrics_scraper.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace fnft::bench {

namespace {

// Closes the fd when the scrape ends, however it ends.
struct ClosingFd {
  int fd;
  ~ClosingFd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MetricsScraper::MetricsScraper(std::string address, std::uint16_t port, std::string path)
    : address_(std::move(address)), port_(port), path_(std::move(path)) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, address_.c_str(), &parsed) != 1)
    throw std::invalid_argument("metrics scraper: not an IPv4 address: " + address_);
  thread_ = std::thread([this] { loop(); });
}

MetricsScraper::~MetricsScraper() {
  stop();
}

double MetricsScraper::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  return seconds_ > 0 ? static_cast<double>(answered_.load()) / seconds_ : 0;
}

void MetricsScraper::loop() {
  const auto started = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (scrape_once()) {
      ++answered_;
    } else {
      ++failed_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a daemon not up yet
    }
  }
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

bool MetricsScraper::scrape_once() const {
  const ClosingFd socket{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (socket.fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_);
  ::inet_pton(AF_INET, address_.c_str(), &to.sin_addr);
  if (::connect(socket.fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) return false;
  const std::string request =
      "GET " + path_ + " HTTP/1.1\r\nHost: " + address_ + "\r\nConnection: close\r\n\r\n";
  if (::send(socket.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return false;
  }
  char buffer[16384];
  std::string head;
  for (;;) {
    const ssize_t got = ::recv(socket.fd, buffer, sizeof(buffer), 0);
    if (got < 0) return false;
    if (got == 0) break;
    if (head.size() < 16) head.append(buffer, static_cast<std::size_t>(got));
  }
  return head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200");
}

}  // namespace fnft::bench
