#include "testkit/network_namespace.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace fnft::testkit {
namespace {

ino_t network_namespace_inode() {
  struct stat info {};
  if (::stat("/proc/self/ns/net", &info) != 0) return 0;
  return info.st_ino;
}

// Whether `name` matches `pattern`, whose first group is a pid that no longer exists.
bool left_by_dead_process(const std::string& name, const std::regex& pattern) {
  std::smatch match;
  if (!std::regex_match(name, match, pattern)) return false;
  const auto owner = static_cast<pid_t>(std::stol(match[1].str()));
  if (owner == ::getpid()) return false;
  if (::kill(owner, 0) != 0) return errno == ESRCH;
  // A killed test binary whose parent has not reaped it yet still answers kill(0).
  std::ifstream stat("/proc/" + std::to_string(owner) + "/stat");
  std::string pid_field, command, state;
  stat >> pid_field >> command >> state;
  return state == "Z";
}

}  // namespace

std::string unique_prefix() {
  static std::atomic<int> counter{0};
  return "fnft-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-";
}

std::vector<std::string> in_namespace(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns});
  return argv;
}

Namespace::Namespace(std::string name) : name_(std::move(name)) {
  testkit::run_checked({"ip", "netns", "add", name_});
  try {
    testkit::run_checked({"ip", "-n", name_, "link", "set", "lo", "up"});
  } catch (...) {
    testkit::run({"ip", "netns", "del", name_});
    throw;
  }
}

Namespace::~Namespace() {
  // Deleting the namespace destroys its links (and so both ends of every veth into it).
  testkit::run({"ip", "netns", "del", name_});
}

RunResult Namespace::run(std::vector<std::string> argv, std::string_view input,
                         std::chrono::milliseconds timeout) const {
  return testkit::run(in_namespace(name_, std::move(argv)), input, timeout);
}

RunResult Namespace::run_checked(std::vector<std::string> argv, std::string_view input,
                                 std::chrono::milliseconds timeout) const {
  return testkit::run_checked(in_namespace(name_, std::move(argv)), input, timeout);
}

InNamespace::InNamespace(const std::string& ns)
    : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  const int target = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  const bool entered = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
  const int error = errno;
  if (target >= 0) ::close(target);
  if (!entered) {
    if (home_ >= 0) ::close(home_);
    throw std::runtime_error("cannot enter network namespace " + ns + ": " + std::strerror(error));
  }
}

InNamespace::~InNamespace() {
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

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

void remove_stale_namespaces() {
  static const std::regex namespace_name(R"(fnft-([0-9]+)-[0-9]+-.*)");
  static const std::regex temp_dir_name(R"(fnft-netns-([0-9]+)-.{6})");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (left_by_dead_process(name, namespace_name)) testkit::run({"ip", "netns", "del", name});
  }
  const auto temp = std::filesystem::temp_directory_path();
  for (const auto& entry : std::filesystem::directory_iterator(temp, error)) {
    if (left_by_dead_process(entry.path().filename().string(), temp_dir_name)) {
      std::filesystem::remove_all(entry.path(), error);
    }
  }
}

}  // namespace fnft::testkit
