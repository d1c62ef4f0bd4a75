// Running the tools the other systems use (nft, iptables-*-restore) the way they run them:
// fork+exec of the binary with the payload on stdin, no shell in between, so a timed run
// costs what it costs knftables or flanneld and nothing more.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace fnft::bench {

struct ProcessResult {
  int exit_code = -1;  // -1 when it was killed by a signal
  int signal = 0;
  std::string out;  // its stdout
  std::string err;  // its stderr

  bool ok() const { return exit_code == 0; }
  // "nft -f - exited 1: <stderr>" for error messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

// One child with `input` on its stdin (then closed). The destructor kills and reaps a child
// that was not waited for, so an exception never leaves a process behind.
class ChildProcess {
 public:
  // argv[0] is looked up in PATH. Throws std::runtime_error when it cannot be started.
  ChildProcess(const std::vector<std::string>& argv, std::string_view input);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Feeds the rest of stdin, reads stderr to its end and reaps the child.
  ProcessResult wait();

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string_view input_;
};

// Starts `argv`, feeds `input`, and waits for it: the unit the apply benchmark times.
ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input);

// A child must be able to die of SIGPIPE but the benchmark must not: called once in main.
void ignore_sigpipe();

}  // namespace fnft::bench
