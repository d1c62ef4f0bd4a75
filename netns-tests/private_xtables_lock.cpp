#include "netns-tests/private_xtables_lock.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fnft::netns_test {
namespace {

// In the child after fork(): system calls only. Reports success by a byte on `ready`.
[[noreturn]] void keep_mount_namespace(int ready) {
  const bool made = ::unshare(CLONE_NEWNS) == 0 &&
                    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                    ::mount("fnft-xtables", "/run", "tmpfs", 0, "mode=0755") == 0;
  const int lock = made ? ::open("/run/xtables.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600) : -1;
  const char byte = lock >= 0 ? '1' : '0';
  (void)!::write(ready, &byte, 1);
  ::close(ready);
  if (lock < 0) ::_exit(1);
  for (;;) ::pause();
}

}  // namespace

PrivateXtablesLock::PrivateXtablesLock() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error(std::strerror(errno));
  keeper_ = ::fork();
  if (keeper_ == 0) {
    ::close(ready[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a test killed halfway
    keep_mount_namespace(ready[1]);
  }
  ::close(ready[1]);
  char byte = '0';
  const bool answered = ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (keeper_ < 0 || !answered || byte != '1') {
    if (keeper_ > 0) {
      ::kill(keeper_, SIGKILL);
      ::waitpid(keeper_, nullptr, 0);
    }
    throw std::runtime_error("cannot make a mount namespace with its own /run/xtables.lock");
  }
}

PrivateXtablesLock::~PrivateXtablesLock() {
  release();
  if (keeper_ > 0) {
    ::kill(keeper_, SIGKILL);
    ::waitpid(keeper_, nullptr, 0);
    keeper_ = -1;
  }
}

std::vector<std::string> PrivateXtablesLock::wrapper() const {
  return {"nsenter", "--mount=/proc/" + std::to_string(keeper_) + "/ns/mnt", "--"};
}

void PrivateXtablesLock::hold() {
  if (lock_fd_ >= 0) return;
  const std::string path = "/proc/" + std::to_string(keeper_) + "/root/run/xtables.lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0)
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(errno));
}

void PrivateXtablesLock::release() {
  if (lock_fd_ < 0) return;
  ::close(lock_fd_);  // the flock goes with the last descriptor
  lock_fd_ = -1;
}

}  // namespace fnft::netns_test
