// An xtables lock of the test's own: a mount namespace whose /run is a fresh tmpfs holding
// its own xtables.lock, for a daemon started through wrapper(). Holding it makes the daemon's
// `iptables-restore --wait` wait as kube-proxy's long restores make it wait on a busy node,
// and no other iptables user of the machine waits with it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fnft::netns_test {

class PrivateXtablesLock {
 public:
  // Throws std::runtime_error when the mount namespace cannot be made.
  PrivateXtablesLock();
  ~PrivateXtablesLock();
  PrivateXtablesLock(const PrivateXtablesLock&) = delete;
  PrivateXtablesLock& operator=(const PrivateXtablesLock&) = delete;

  // The command prefix that runs a program in that mount namespace.
  std::vector<std::string> wrapper() const;

  // Takes the lock as an iptables program would (flock), or lets it go.
  void hold();
  void release();

 private:
  pid_t keeper_ = -1;  // the process whose mount namespace it is
  int lock_fd_ = -1;
};

}  // namespace fnft::netns_test
