// Running programs from the tests and benchmarks: argv vectors through posix_spawn, never a shell,
// with stdout, stderr and the exit code captured so a failure message can show all three.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fnft::testkit {

using namespace std::chrono_literals;

struct RunResult {
  std::vector<std::string> argv;
  int exit_code = -1;      // -1 when killed by a signal (see `signal`) or never started
  int signal = 0;          // the signal that ended it, if any
  bool timed_out = false;  // we killed it because it outlived its deadline
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0 && !timed_out; }
  // "$ argv... -> exit N" followed by the captured output, for failure messages.
  std::string describe() const;
};

// Runs `argv` (PATH lookup for argv[0]) with `input` on stdin and waits at most `timeout`,
// killing it after that. Never throws for a program that fails; throws only when it cannot
// be started at all (posix_spawn or pipe failure).
RunResult run(const std::vector<std::string>& argv, std::string_view input = {},
              std::chrono::milliseconds timeout = 15s);

// Like run(), but throws std::runtime_error carrying describe() when the program fails:
// for the steps a test builds on (creating links, loading rules) where failing is a bug.
RunResult run_checked(const std::vector<std::string>& argv, std::string_view input = {},
                      std::chrono::milliseconds timeout = 15s);

// A program running alongside the test (a server, `nft monitor`, a packet stream). The
// destructor ends it (SIGTERM, then SIGKILL) and reaps it, so a failed ASSERT leaves no
// process behind, and no process keeps a test's namespace alive.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(std::vector<std::string> argv, std::string input = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  BackgroundProcess(BackgroundProcess&& other) noexcept;
  BackgroundProcess& operator=(BackgroundProcess&&) = delete;

  using OutputPredicate = std::function<bool(const std::string& out, const std::string& err)>;

  // Reads output until `done` holds or `timeout` passes (or the program exits and `done`
  // still does not hold); returns whether it holds.
  bool wait_for(const OutputPredicate& done, std::chrono::milliseconds timeout);
  bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout);
  bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout);

  // Waits for the program to exit by itself for at most `timeout`, then kills it.
  RunResult finish(std::chrono::milliseconds timeout);
  // Sends `signal_number` now and collects the result (SIGKILL if it does not exit in 2 s).
  RunResult stop(int signal_number);

  // Reads whatever output is available now, without waiting.
  void read_available();

  // What it printed so far (call wait_for or read_available first to read more).
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }
  // Output so far, for failure messages while it still runs.
  std::string describe() const { return result_.describe(); }

 private:
  // Reads whatever is available, waiting at most `timeout` for something; reaps on EOF.
  void pump(std::chrono::milliseconds timeout);
  bool exited() const { return pid_ <= 0; }
  void reap(bool block);
  void kill_and_reap();

  pid_t pid_ = -1;
  int in_fd_ = -1;
  std::string input_;  // what is still to be written to stdin
  int out_fd_ = -1;
  int err_fd_ = -1;
  RunResult result_;
};

}  // namespace fnft::testkit
