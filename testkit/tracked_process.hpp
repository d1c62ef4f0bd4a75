// A long-lived child whose pid the caller must know (to SIGSTOP, SIGKILL or read the CPU
// time and memory of `flannel-nftd run`; to find a committer's pid in the daemon's warning),
// its stdout and stderr going to a file read while it runs.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fnft::testkit {

// CPU time a process used so far: utime + stime of /proc/PID/stat (10 ms clock ticks here),
// what it reaped of its children (the iptables modes' tools), and the scheduler's nanosecond
// count of /proc/PID/schedstat, precise enough for a few ms of work.
struct CpuTime {
  std::chrono::microseconds user_plus_system{0};
  std::chrono::microseconds children{0};  // cutime + cstime
  std::chrono::nanoseconds runtime{0};
};

struct Memory {
  std::uint64_t rss_kib = 0;  // VmRSS
  std::uint64_t hwm_kib = 0;  // VmHWM: the peak RSS
};

enum class OutputFile { truncate, append };

// Started without a shell, in its own process group, with SIGPIPE and the signal mask reset;
// sent `death_signal` when this process dies (PR_SET_PDEATHSIG) and SIGKILL by the
// destructor if still running: it never outlives its test or benchmark.
class TrackedProcess {
 public:
  TrackedProcess(std::vector<std::string> argv, std::string output_file, int death_signal = SIGKILL,
                 OutputFile mode = OutputFile::truncate);
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
  // SIGTERM, then SIGKILL if it has not exited `grace` later; how it ended ("exit 0", or
  // "signal 9 (did not stop within 5 s of SIGTERM)").
  std::string stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // How it ended, or "running".
  std::string exit_status() const { return exit_status_.value_or("running"); }
  CpuTime cpu_time() const;
  Memory memory() const;
  std::string describe() const;

 private:
  void reap(bool block);

  std::vector<std::string> argv_;
  std::string output_file_;
  pid_t pid_ = -1;
  std::optional<std::string> exit_status_;
};

}  // namespace fnft::testkit
