// Long-lived children of the daemon tests whose pid the test must know (to SIGSTOP, SIGKILL
// or read the CPU time of `flannel-nftd run`; to find a committer's pid in the daemon's
// warning), with stdout and stderr going to a file the test reads while they run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "netns-tests/netns_node.hpp"

namespace fnft::netns_test {

// CPU time a process used so far: utime + stime of /proc/PID/stat (clock ticks) and the
// scheduler's nanosecond count of /proc/PID/schedstat (finer, for small amounts).
struct CpuTime {
  std::chrono::microseconds user_plus_system{0};
  std::chrono::nanoseconds runtime{0};
};

// A child started without a shell, in its own process group, killed (SIGKILL) when the test
// binary dies (PR_SET_PDEATHSIG) and by the destructor: it never outlives its test.
class TrackedProcess {
 public:
  TrackedProcess(std::vector<std::string> argv, std::string output_file);
  ~TrackedProcess();
  TrackedProcess(const TrackedProcess&) = delete;
  TrackedProcess& operator=(const TrackedProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& output_file() const { return output_file_; }
  // Everything it wrote to stdout and stderr so far.
  std::string output() const;
  // Not yet exited (a stopped process counts as running).
  bool running();
  void signal(int signal_number) const;
  // Waits at most `timeout` for it to exit by itself; nullopt if it did not (it keeps
  // running). "exit N" or "signal N".
  std::optional<std::string> wait_exit(std::chrono::milliseconds timeout);
  CpuTime cpu_time() const;
  std::string describe() const;

 private:
  void reap(bool block);

  std::vector<std::string> argv_;
  std::string output_file_;
  pid_t pid_ = -1;
  std::optional<std::string> exit_status_;
};

// `WRAPPER... flannel-nftd run --subnet-file=... --net-config-path=... OPTIONS...` inside
// `node`'s namespace (`ip netns exec` execs, and so must a wrapper such as `env` or
// `setpriv`, so its pid is the daemon's), logging to `log_file`.
class DaemonProcess {
 public:
  DaemonProcess(const FlannelNode& node, const std::string& subnet_file,
                const std::string& net_conf_file, std::vector<std::string> options,
                std::string log_file, std::vector<std::string> wrapper = {});

  pid_t pid() const { return process_.pid(); }
  TrackedProcess& process() { return process_; }
  std::string log() const { return process_.output(); }
  // Polls the log every 20 ms for at most `timeout`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Lines of the log containing `needle`.
  std::vector<std::string> log_lines(const std::string& needle) const;
  std::string describe() const { return process_.describe(); }

 private:
  TrackedProcess process_;
};

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle);

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
// The timeouts the tests pass are "it happened" bounds, never performance thresholds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace fnft::netns_test
