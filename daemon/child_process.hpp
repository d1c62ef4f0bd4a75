// Runs a program (never a shell) with some input and collects its output: how the iptables
// tools are driven. Used only outside the reactor (CLI verbs, start-up) and by benchmarks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/unique_fd.hpp"

namespace fnft::daemon {

struct ChildResult {
  int exit_code = -1;  // -1: killed (timeout or signal)
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // "nft -f - exited 1: <first line of stderr>", for error messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

// One child with `input` on its stdin. The destructor kills and reaps a child that was not
// waited for, so an exception never leaves a process behind.
class ChildProcess {
 public:
  // `argv[0]` is an absolute path or the name of a program in the system's directories
  // (find_system_program; never the inherited PATH); the child's environment is
  // child_environment(). Throws std::system_error when the program cannot be started (error
  // code ENOENT: not installed).
  ChildProcess(const std::vector<std::string>& argv, std::string input);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Feeds stdin, reads stdout and stderr to their end and reaps the child; kills it after
  // `timeout`.
  ChildResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  std::string input_;
  UniqueFd in_;
  UniqueFd out_;
  UniqueFd err_;
};

inline ChildResult run_child(const std::vector<std::string>& argv, std::string_view input,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return ChildProcess(argv, std::string(input)).wait(timeout);
}

}  // namespace fnft::daemon
