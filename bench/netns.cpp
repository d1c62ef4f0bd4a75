#include "bench/netns.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

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
}

}  // namespace fnft::bench
