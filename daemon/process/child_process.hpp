// Runs a program and waits for it, blocking: for the CLI verbs' one-off work and the
// benchmarks. The reactor uses AsyncChild instead; both start children with spawn_child.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/process/child_spawn.hpp"

namespace fnft::daemon {

// One child with `input` on its stdin. The destructor kills and reaps a child that was not
// waited for, so an exception never leaves a process behind.
class ChildProcess {
 public:
  // See spawn_child. Throws std::system_error when the program cannot be started.
  ChildProcess(const std::vector<std::string>& argv, std::string input);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return child_.pid; }
  // Feeds stdin, reads stdout and stderr to their end and reaps the child; kills it after
  // `timeout`.
  ChildResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  SpawnedChild child_;
  std::string input_;
};

inline ChildResult run_child(const std::vector<std::string>& argv, std::string_view input,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return ChildProcess(argv, std::string(input)).wait(timeout);
}

}  // namespace fnft::daemon
