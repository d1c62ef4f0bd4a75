// For the tests that drive the daemon's own classes against the real kernel: this thread in
// a test's network namespace while the guard lives. Sockets keep the namespace they were
// made in.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace fnft::netns_test {

class InNamespace {
 public:
  explicit InNamespace(const std::string& ns)
      : home_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    const int target = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) ::close(target);
    if (!entered) {
      if (home_ >= 0) ::close(home_);
      throw std::runtime_error("cannot enter network namespace " + ns);
    }
  }
  ~InNamespace() {
    ::setns(home_, CLONE_NEWNET);
    ::close(home_);
  }
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int home_;
};

}  // namespace fnft::netns_test
