// traffic_probe: the packets of the netns tests, run inside a namespace with `ip netns exec`.
// It exists so the tests depend on no netcat/ping flavour and every wait has a bound.
//
//   serve-udp ADDR PORT [--timeout S]   print the source address of the first datagram, echo it
//   serve-tcp ADDR PORT [--timeout S]   print the source address of the first connection, echo
//   echo-udp ADDR PORT [--timeout S]    echo every datagram until SIGTERM or the timeout
//   send-udp ADDR PORT [--expect-reply] [--resend-ms R] [--timeout S]
//       with --resend-ms, the datagram is sent again from the same socket (one flow, one
//       conntrack entry) every R ms until answered, as a resolver retries
//   connect-tcp ADDR PORT [--timeout S] exit 0 once connected and one round trip completed
//   ping ADDR [--count N] [--timeout S] ICMP/ICMPv6 echo over a raw socket
//   udp-stream ADDR PORT [--interval-ms I] [--reply-timeout-ms T] [--count N] [--timeout S]
//       one datagram per socket (so each is a new conntrack entry and meets the NAT chain),
//       until SIGTERM, --count or --timeout; prints "sent S received R lost L"
//   echo-tcp ADDR PORT [--timeout S]    print the source of one connection, echo it to its end
//   tcp-stream ADDR PORT [--interval-ms I] [--reply-timeout-ms T] [--timeout S]
//       one connection, one echoed round trip per interval; prints "rounds R late L broken B"
//
// Servers print "ready" on stderr once bound, so a test starts its client only then.
// Exit codes: 0 success, 1 nothing (or not everything) came back in time, 2 usage/setup error.
//
// Over 400 lines: a standalone program (it runs inside the namespaces), one command per job.
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kOk = 0;
constexpr int kNoReply = 1;
constexpr int kUsage = 2;

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) {
  g_stop = 1;
}

// No SA_RESTART: a blocking poll returns EINTR so the stream can print its summary.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Closes the socket on every path.
class Socket {
 public:
  Socket(int family, int type, int protocol) : fd_(::socket(family, type, protocol)) {
    if (fd_ < 0) throw SetupError(errno_text("socket"));
  }
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

Endpoint endpoint(const std::string& address, int port) {
  Endpoint result;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    result.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    result.length = sizeof(sockaddr_in6);
  } else {
    throw SetupError("\"" + address + "\" is not an IPv4 or IPv6 address");
  }
  return result;
}

std::string address_text(const sockaddr_storage& storage) {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
                sizeof text);
  } else {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
                sizeof text);
  }
  return text;
}

// Waits until `fd` has `events` or `deadline` passes; false on timeout or a stop signal.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  while (g_stop == 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd pfd{fd, events, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) throw SetupError(errno_text("poll"));
  }
  return false;
}

Socket bound_socket(const Endpoint& local, int type) {
  Socket sock(local.family(), type, 0);
  const int one = 1;
  ::setsockopt(sock.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(sock.fd(), local.addr(), local.length) != 0) throw SetupError(errno_text("bind"));
  return sock;
}

void say_ready() {
  std::fputs("ready\n", stderr);
  std::fflush(stderr);
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--name" -> value ("" for flags)

  int number(const std::string& name, int fallback) const {
    const auto found = options.find(name);
    return found == options.end() ? fallback : std::stoi(found->second);
  }
  bool flag(const std::string& name) const { return options.count(name) != 0; }
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.rfind("--", 0) != 0) {
      args.positional.push_back(word);
    } else if (word == "--expect-reply") {
      args.options[word] = "";
    } else if (i + 1 < argc) {
      args.options[word] = argv[++i];
    } else {
      throw SetupError(word + " needs a value");
    }
  }
  return args;
}

int serve_udp(const Endpoint& local, std::chrono::seconds timeout) {
  const Socket sock = bound_socket(local, SOCK_DGRAM);
  say_ready();
  if (!wait_fd(sock.fd(), POLLIN, Clock::now() + timeout)) {
    std::fprintf(stderr, "no datagram within %llds\n", static_cast<long long>(timeout.count()));
    return kNoReply;
  }
  char buffer[2048];
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const ssize_t got = ::recvfrom(sock.fd(), buffer, sizeof buffer, 0,
                                 reinterpret_cast<sockaddr*>(&peer), &peer_length);
  if (got < 0) throw SetupError(errno_text("recvfrom"));
  std::printf("%s\n", address_text(peer).c_str());
  std::fflush(stdout);
  ::sendto(sock.fd(), buffer, static_cast<std::size_t>(got), 0, reinterpret_cast<sockaddr*>(&peer),
           peer_length);
  return kOk;
}

int echo_udp(const Endpoint& local, std::chrono::seconds timeout) {
  install_stop_handlers();
  const Socket sock = bound_socket(local, SOCK_DGRAM);
  say_ready();
  const auto deadline = Clock::now() + timeout;
  while (wait_fd(sock.fd(), POLLIN, deadline)) {
    char buffer[2048];
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    const ssize_t got = ::recvfrom(sock.fd(), buffer, sizeof buffer, 0,
                                   reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (got < 0) continue;
    ::sendto(sock.fd(), buffer, static_cast<std::size_t>(got), 0,
             reinterpret_cast<sockaddr*>(&peer), peer_length);
  }
  return kOk;
}

// Listens on `local`, accepts one connection before `deadline` and prints its peer's
// address (the source a masqueraded connection arrives with); nullopt when none came.
std::optional<Socket> accept_one(const Endpoint& local, Clock::time_point deadline) {
  const Socket listener = bound_socket(local, SOCK_STREAM);
  if (::listen(listener.fd(), 4) != 0) throw SetupError(errno_text("listen"));
  say_ready();
  if (!wait_fd(listener.fd(), POLLIN, deadline)) return std::nullopt;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  Socket connection(::accept(listener.fd(), reinterpret_cast<sockaddr*>(&peer), &peer_length));
  if (connection.fd() < 0) throw SetupError(errno_text("accept"));
  std::printf("%s\n", address_text(peer).c_str());
  std::fflush(stdout);
  return connection;
}

int serve_tcp(const Endpoint& local, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::optional<Socket> connection = accept_one(local, deadline);
  if (!connection) {
    std::fprintf(stderr, "no connection within %llds\n", static_cast<long long>(timeout.count()));
    return kNoReply;
  }
  char buffer[256];
  if (wait_fd(connection->fd(), POLLIN, deadline)) {
    const ssize_t got = ::recv(connection->fd(), buffer, sizeof buffer, 0);
    if (got > 0) ::send(connection->fd(), buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL);
  }
  return kOk;
}

// One datagram from a fresh socket; with `reply_deadline`, waits for the echo.
// Sends `payload` (again every `resend`, when given, until answered) and waits for its echo.
bool udp_exchange(const Endpoint& remote, const std::string& payload,
                  std::optional<Clock::time_point> reply_deadline,
                  std::optional<std::chrono::milliseconds> resend = std::nullopt) {
  const Socket sock(remote.family(), SOCK_DGRAM, 0);
  const auto send = [&] {
    if (::sendto(sock.fd(), payload.data(), payload.size(), 0, remote.addr(), remote.length) < 0) {
      throw SetupError(errno_text("sendto"));
    }
  };
  send();
  if (!reply_deadline) return true;
  int sends = 1;
  for (;;) {
    const auto wait_until =
        resend ? std::min(*reply_deadline, Clock::now() + *resend) : *reply_deadline;
    if (wait_fd(sock.fd(), POLLIN, wait_until)) {
      char buffer[2048];
      const ssize_t got = ::recv(sock.fd(), buffer, sizeof buffer, 0);
      if (got >= 0 && std::string(buffer, static_cast<std::size_t>(got)) == payload) {
        if (resend) std::printf("answered after %d send(s)\n", sends);
        return true;
      }
      continue;
    }
    if (Clock::now() >= *reply_deadline) return false;
    send();
    ++sends;
  }
}

int send_udp(const Endpoint& remote, const Args& args, std::chrono::seconds timeout) {
  std::optional<Clock::time_point> deadline;
  if (args.flag("--expect-reply")) deadline = Clock::now() + timeout;
  std::optional<std::chrono::milliseconds> resend;
  if (args.options.count("--resend-ms") != 0)
    resend = std::chrono::milliseconds(args.number("--resend-ms", 200));
  if (udp_exchange(remote, "fnft-probe", deadline, resend)) return kOk;
  std::fprintf(stderr, "no reply within %llds\n", static_cast<long long>(timeout.count()));
  return kNoReply;
}

int connect_tcp(const Endpoint& remote, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const Socket sock(remote.family(), SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (::connect(sock.fd(), remote.addr(), remote.length) != 0 && errno != EINPROGRESS) {
    std::fprintf(stderr, "%s\n", errno_text("connect").c_str());
    return kNoReply;
  }
  int error = ETIMEDOUT;
  socklen_t length = sizeof error;
  if (wait_fd(sock.fd(), POLLOUT, deadline)) {
    ::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
  }
  if (error != 0) {
    std::fprintf(stderr, "connect: %s\n", std::strerror(error));
    return kNoReply;
  }
  const std::string payload = "fnft-probe";
  ::send(sock.fd(), payload.data(), payload.size(), MSG_NOSIGNAL);
  std::string echoed;
  while (echoed.size() < payload.size() && wait_fd(sock.fd(), POLLIN, deadline)) {
    char buffer[256];
    const ssize_t got = ::recv(sock.fd(), buffer, sizeof buffer, 0);
    if (got <= 0) break;
    echoed.append(buffer, static_cast<std::size_t>(got));
  }
  if (echoed == payload) return kOk;
  std::fprintf(stderr, "connected, but no echo within %llds\n",
               static_cast<long long>(timeout.count()));
  return kNoReply;
}

std::uint16_t internet_checksum(const unsigned char* data, std::size_t length) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < length; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (length % 2 != 0) sum += data[length - 1] << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum & 0xffff));
}

// Sends one echo request and waits for the matching reply. The kernel fills the ICMPv6
// checksum itself; for ICMPv4 we compute it, and replies arrive with their IP header.
bool ping_once(const Socket& sock, const Endpoint& remote, std::uint16_t id, std::uint16_t seq,
               Clock::time_point deadline) {
  const bool v4 = remote.family() == AF_INET;
  unsigned char packet[32] = {};
  const int request_type = v4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  const int reply_type = v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
  packet[0] = static_cast<unsigned char>(request_type);
  const std::uint16_t id_net = htons(id);
  const std::uint16_t seq_net = htons(seq);
  std::memcpy(packet + 4, &id_net, 2);
  std::memcpy(packet + 6, &seq_net, 2);
  std::memcpy(packet + 8, "fnft-probe-ping", 15);
  if (v4) {
    const std::uint16_t sum = internet_checksum(packet, sizeof packet);
    std::memcpy(packet + 2, &sum, 2);
  }
  if (::sendto(sock.fd(), packet, sizeof packet, 0, remote.addr(), remote.length) < 0) {
    std::fprintf(stderr, "%s\n", errno_text("sendto").c_str());
    return false;
  }
  while (wait_fd(sock.fd(), POLLIN, deadline)) {
    unsigned char reply[1500];
    const ssize_t got = ::recv(sock.fd(), reply, sizeof reply, 0);
    if (got <= 0) continue;
    std::size_t offset = v4 ? static_cast<std::size_t>(reply[0] & 0x0f) * 4 : 0;
    if (static_cast<std::size_t>(got) < offset + 8) continue;
    const unsigned char* icmp = reply + offset;
    if (icmp[0] != reply_type) continue;
    if (std::memcmp(icmp + 4, &id_net, 2) == 0 && std::memcmp(icmp + 6, &seq_net, 2) == 0) {
      return true;
    }
  }
  return false;
}

int ping(const Endpoint& remote, int count, std::chrono::seconds timeout) {
  const bool v4 = remote.family() == AF_INET;
  const int protocol = v4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  const Socket sock(remote.family(), SOCK_RAW, protocol);
  const auto id = static_cast<std::uint16_t>(::getpid() & 0xffff);
  int received = 0;
  for (int seq = 1; seq <= count; ++seq) {
    if (ping_once(sock, remote, id, static_cast<std::uint16_t>(seq), Clock::now() + timeout)) {
      ++received;
    }
  }
  std::printf("sent %d received %d\n", count, received);
  return received == count ? kOk : kNoReply;
}

int udp_stream(const Endpoint& remote, const Args& args) {
  install_stop_handlers();
  const auto interval = std::chrono::milliseconds(args.number("--interval-ms", 10));
  const auto reply_timeout = std::chrono::milliseconds(args.number("--reply-timeout-ms", 1000));
  const int count = args.number("--count", 0);  // 0: until SIGTERM or --timeout
  const auto deadline = Clock::now() + std::chrono::seconds(args.number("--timeout", 30));
  int sent = 0;
  int received = 0;
  int lost = 0;
  while (g_stop == 0 && Clock::now() < deadline && (count == 0 || sent < count)) {
    const std::string payload = "fnft-stream " + std::to_string(sent);
    ++sent;
    if (udp_exchange(remote, payload, Clock::now() + reply_timeout)) {
      ++received;
      if (received == 1) std::fputs("started\n", stderr);
      if (received % 10 == 0) std::fprintf(stderr, "received %d\n", received);
    } else if (g_stop != 0) {
      --sent;  // interrupted while waiting: neither lost nor received
    } else {
      ++lost;
      std::printf("lost datagram %d\n", sent - 1);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    std::this_thread::sleep_for(interval);
  }
  std::printf("sent %d received %d lost %d\n", sent, received, lost);
  return lost == 0 && received > 0 ? kOk : kNoReply;
}

// One connection, echoed until the peer closes it, SIGTERM or the timeout; prints the peer's
// address first, so a test sees what source a masqueraded connection arrived with.
int echo_tcp(const Endpoint& local, std::chrono::seconds timeout) {
  install_stop_handlers();
  const auto deadline = Clock::now() + timeout;
  const std::optional<Socket> connection = accept_one(local, deadline);
  if (!connection) return kNoReply;
  while (wait_fd(connection->fd(), POLLIN, deadline)) {
    char buffer[512];
    const ssize_t got = ::recv(connection->fd(), buffer, sizeof buffer, 0);
    if (got <= 0) break;
    ::send(connection->fd(), buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL);
  }
  return kOk;
}

// One long-lived connection and one echoed round trip per interval over it: whether an
// established connection survives what happens to the rules meanwhile. Prints "rounds R
// late L broken 0|1"; exit 0 when the connection never broke and every echo came in time.
int tcp_stream(const Endpoint& remote, const Args& args) {
  install_stop_handlers();
  const auto interval = std::chrono::milliseconds(args.number("--interval-ms", 10));
  const auto reply_timeout = std::chrono::milliseconds(args.number("--reply-timeout-ms", 1000));
  const auto deadline = Clock::now() + std::chrono::seconds(args.number("--timeout", 30));
  const Socket sock(remote.family(), SOCK_STREAM, 0);
  if (::connect(sock.fd(), remote.addr(), remote.length) != 0) {
    std::fprintf(stderr, "%s\n", errno_text("connect").c_str());
    return kNoReply;
  }
  std::fputs("started\n", stderr);
  int rounds = 0;
  int late = 0;
  bool broken = false;
  while (g_stop == 0 && Clock::now() < deadline && !broken) {
    const std::string payload = "round " + std::to_string(rounds) + "\n";
    if (::send(sock.fd(), payload.data(), payload.size(), MSG_NOSIGNAL) < 0) {
      broken = true;
      break;
    }
    std::string echoed;
    const auto reply_deadline = Clock::now() + reply_timeout;
    while (echoed.size() < payload.size() && wait_fd(sock.fd(), POLLIN, reply_deadline)) {
      char buffer[512];
      const ssize_t got = ::recv(sock.fd(), buffer, sizeof buffer, 0);
      if (got <= 0) {
        broken = true;
        break;
      }
      echoed.append(buffer, static_cast<std::size_t>(got));
    }
    if (g_stop != 0) break;
    ++rounds;
    if (!broken && echoed != payload) {
      ++late;
      std::printf("late round %d\n", rounds - 1);
    }
    if (rounds % 10 == 0) std::fprintf(stderr, "rounds %d\n", rounds);
    std::fflush(stdout);
    std::fflush(stderr);
    std::this_thread::sleep_for(interval);
  }
  std::printf("rounds %d late %d broken %d\n", rounds, late, broken ? 1 : 0);
  return !broken && late == 0 && rounds > 0 ? kOk : kNoReply;
}

int usage() {
  std::fputs(
      "usage: traffic_probe serve-udp|serve-tcp|echo-udp|send-udp|connect-tcp ADDR PORT [opts]\n"
      "       traffic_probe ping ADDR [--count N] [--timeout S]\n"
      "       traffic_probe udp-stream ADDR PORT [--interval-ms I] [--reply-timeout-ms T]\n"
      "                                [--count N] [--timeout S]\n"
      "       traffic_probe echo-tcp ADDR PORT [--timeout S]\n"
      "       traffic_probe tcp-stream ADDR PORT [--interval-ms I] [--reply-timeout-ms T]\n"
      "                                [--timeout S]\n",
      stderr);
  return kUsage;
}

int dispatch(const std::string& verb, const Args& args) {
  const auto timeout = std::chrono::seconds(args.number("--timeout", 5));
  if (verb == "ping") {
    if (args.positional.size() != 1) return usage();
    return ping(endpoint(args.positional[0], 0), args.number("--count", 1), timeout);
  }
  if (args.positional.size() != 2) return usage();
  const Endpoint where = endpoint(args.positional[0], std::stoi(args.positional[1]));
  if (verb == "serve-udp") return serve_udp(where, timeout);
  if (verb == "serve-tcp") return serve_tcp(where, timeout);
  if (verb == "echo-udp")
    return echo_udp(where, std::chrono::seconds(args.number("--timeout", 60)));
  if (verb == "send-udp") return send_udp(where, args, timeout);
  if (verb == "connect-tcp") return connect_tcp(where, timeout);
  if (verb == "udp-stream") return udp_stream(where, args);
  if (verb == "echo-tcp")
    return echo_tcp(where, std::chrono::seconds(args.number("--timeout", 60)));
  if (verb == "tcp-stream") return tcp_stream(where, args);
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  // End with the test that started us, even when it is killed before its destructors run
  // (`ip netns exec` execs us in place, so our parent is the test binary itself).
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (argc < 2) return usage();
  try {
    return dispatch(argv[1], parse_args(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "traffic_probe %s: %s\n", argv[1], error.what());
    return kUsage;
  }
}
