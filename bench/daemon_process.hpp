// The real flannel-nftd binary, started by the repair benchmark inside its private network
// namespace, and what /proc says about it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fnft::bench {

// CPU time consumed so far, from two sources: utime+stime of /proc/PID/stat (what `ps` and
// the brief ask for; 10 ms ticks on this kernel) and the scheduler's own nanosecond
// counter, /proc/PID/schedstat, precise enough for a few ms of work.
struct CpuTime {
  std::uint64_t ticks = 0;  // utime + stime, in clock ticks
  // cutime + cstime: the children it reaped (the iptables mode's tools), in clock ticks.
  std::uint64_t children_ticks = 0;
  double tick_seconds = 0;       // 1 / sysconf(_SC_CLK_TCK)
  std::uint64_t runtime_ns = 0;  // schedstat: time on a CPU
};

struct Memory {
  std::uint64_t rss_kib = 0;  // VmRSS
  std::uint64_t hwm_kib = 0;  // VmHWM: the peak RSS
};

class DaemonProcess {
 public:
  // Starts `binary` with `args`, its stdout and stderr appended to `log_file`. The child
  // gets SIGTERM if the benchmark dies (PR_SET_PDEATHSIG), so it never outlives us.
  DaemonProcess(const std::string& binary, const std::vector<std::string>& args,
                const std::filesystem::path& log_file);
  // SIGTERM (then SIGKILL after 5 s) and reap, if still running.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once it exited (reaps it then; see exit_description()).
  bool running();
  std::string exit_description() const { return exit_description_; }
  // Sends SIGTERM and waits; returns how it ended.
  std::string stop();

  CpuTime cpu_time() const;
  Memory memory() const;

 private:
  void record_exit(int status);

  pid_t pid_ = -1;
  std::string exit_description_;
};

}  // namespace fnft::bench
