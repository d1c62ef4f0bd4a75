// `flannel-nftd status`: asks the running daemon, over its control socket, what it holds and
// why, and says it for people (or prints the JSON).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon/cli/verbs.hpp"
#include "daemon/config/options.hpp"
#include "daemon/observe/control_server.hpp"
#include "daemon/observe/status_format.hpp"
#include "daemon/process/unique_fd.hpp"

namespace po = boost::program_options;

namespace fnft::daemon {
namespace {

constexpr const char* kUsage =
    "Usage: flannel-nftd status [--json] [--control-socket=PATH] [--timeout=SECONDS]\n"
    "\n"
    "Ask the running daemon what it holds: the mode, the configuration in force, whether the\n"
    "kernel holds exactly the desired rules and since when, the last repairs and who caused\n"
    "them, repair-war state, event overruns, failures with their last error, the kernel\n"
    "features probed and any warning. Exit code 0 when in sync with the configuration files, 1\n"
    "when not (a repair pending, failing applies, files that cannot be used) or when the daemon\n"
    "cannot be reached, 2 for bad usage.\n";

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, at least 0, for poll().
int millis_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

std::string seconds_text(double seconds) {
  std::ostringstream text;
  text << seconds << " s";
  return text.str();
}

// The daemon's whole answer, or an error in words, within `timeout` from connect to the last
// byte: a daemon whose reactor is stuck must not hang `status` with it, neither while its
// backlog is full (a Unix socket's connect() would block until it accepts) nor after.
std::string ask(const std::string& path, double timeout_seconds) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("--control-socket: " + path + " is longer than a socket path may be");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size());
  const UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_seconds));
  const std::string stuck =
      "its reactor may be stuck (`systemctl status flannel-nftd`; the "
      "journal says what it did last)";
  // A non-blocking connect to a Unix socket whose backlog is full fails with EAGAIN at once
  // and never completes later: it is tried again until the deadline.
  while (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
         0) {
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      throw std::runtime_error(
          "cannot reach the daemon at " + path + ": " + std::strerror(errno) +
          ". Is `flannel-nftd run` running (`systemctl status flannel-nftd`)? A daemon started "
          "with --control-socket needs the same option here; reading it needs root");
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("the daemon at " + path + " accepted no connection within " +
                               seconds_text(timeout_seconds) + " (its backlog is full): " + stuck);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    pollfd readable{socket.get(), POLLIN, 0};
    const int ready = ::poll(&readable, 1, millis_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      throw std::runtime_error("the daemon at " + path + " did not answer within " +
                               seconds_text(timeout_seconds) + ": " + stuck);
    }
    const ssize_t got = ::read(socket.get(), buffer, sizeof(buffer));
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::runtime_error("reading the answer of " + path + ": " + std::strerror(errno));
    }
    answer.append(buffer, static_cast<std::size_t>(got));
    if (answer.size() > (1U << 20))
      throw std::runtime_error("the answer of " + path + " is too long");
  }
  return answer;
}

}  // namespace

int status_command(const std::vector<std::string>& args) {
  std::string path = kDefaultControlSocket;
  bool json = false;
  double timeout = 10;
  po::options_description description("Options");
  // clang-format off
  description.add_options()
      ("control-socket", po::value(&path)->default_value(kDefaultControlSocket)->value_name("PATH"),
       "the running daemon's control socket (as given to `run --control-socket`)")
      ("json", po::bool_switch(&json), "print the daemon's answer as JSON")
      ("timeout", po::value(&timeout)->default_value(10)->value_name("SECONDS"),
       "give up when the daemon has not answered in full by then (0.1 to 3600); it answers "
       "within 5 s even when iptables-save hangs")
      ("help,h", "show this help");
  // clang-format on
  const auto vm = parse_verb_arguments(args, description);
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << description << "\n";
    return kExitOk;
  }
  bounded_option("--timeout", timeout, 0.1, 3600, "seconds");
  try {
    const nlohmann::json status = parse_status_document(ask(path, timeout));
    std::cout << (json ? status.dump(2) + "\n" : format_status(status));
    return status_is_current(status) ? kExitOk : kExitFailure;
  } catch (const nlohmann::json::exception& error) {
    // A field of the wrong type is caught here too, by format_status's accessors.
    std::cerr << "flannel-nftd status: the answer on " << path << " is not a status document ("
              << error.what() << "): is that socket a flannel-nftd's?\n";
    return kExitFailure;
  } catch (const std::runtime_error& error) {
    std::cerr << "flannel-nftd status: " << error.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace fnft::daemon
