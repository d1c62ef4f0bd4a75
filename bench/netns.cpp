#include "bench/netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "daemon/process/child_process.hpp"

namespace fnft::bench {
namespace {

ino_t network_namespace_inode() {
  struct stat info {};
  if (::stat("/proc/self/ns/net", &info) != 0) return 0;
  return info.st_ino;
}

}  // namespace

void enter_private_network_namespace() {
  const ino_t before = network_namespace_inode();
  if (::unshare(CLONE_NEWNET) != 0) {
    const int error = errno;
    throw std::runtime_error(std::string("cannot create a private network namespace "
                                         "(unshare(CLONE_NEWNET)): ") +
                             std::strerror(error) + (error == EPERM ? "; run as root" : ""));
  }
  // Paranoia that costs nothing: never run a single kernel experiment in the host's namespace.
  if (before != 0 && network_namespace_inode() == before) {
    throw std::runtime_error(
        "unshare(CLONE_NEWNET) returned, but we are still in the same "
        "network namespace; refusing to touch the host's ruleset");
  }
  // Loopback up, as on any node: the daemon serves /metrics on 127.0.0.1.
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  const bool up = fd >= 0 && ::ioctl(fd, SIOCGIFFLAGS, &request) == 0 &&
                  (request.ifr_flags |= IFF_UP, ::ioctl(fd, SIOCSIFFLAGS, &request) == 0);
  const int error = errno;
  if (fd >= 0) ::close(fd);
  if (!up) throw std::runtime_error(std::string("cannot set lo up: ") + std::strerror(error));
}

NamedNamespace::NamedNamespace(std::string name) : name_(std::move(name)) {
  const auto added = daemon::run_child({"ip", "netns", "add", name_}, {});
  if (!added.ok()) throw std::runtime_error("ip netns add " + name_ + ": " + added.err);
  run({"ip", "link", "set", "lo", "up"});
}

NamedNamespace::~NamedNamespace() {
  daemon::run_child({"ip", "netns", "delete", name_}, {});
}

std::string NamedNamespace::run(std::vector<std::string> argv, const std::string& input) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
  const auto result = daemon::run_child(argv, input, std::chrono::seconds(120));
  if (!result.ok()) {
    std::string words;
    for (const auto& word : argv) words += " " + word;
    throw std::runtime_error("$" + words + " failed: " + result.err + result.out);
  }
  return result.out;
}

InsideNamespace::InsideNamespace(const NamedNamespace& ns)
    : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  const int target = ::open(("/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
  const bool entered = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
  if (target >= 0) ::close(target);
  if (!entered) {
    if (home_ >= 0) ::close(home_);
    throw std::runtime_error("cannot enter network namespace " + ns.name() + ": " +
                             std::strerror(errno));
  }
}

InsideNamespace::~InsideNamespace() {
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

}  // namespace fnft::bench
