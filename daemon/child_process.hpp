// Runs a program (never a shell) with some input and collects its output: how the iptables
// tools are driven. Used only outside the reactor (CLI verbs, start-up).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace fnft::daemon {

struct ChildResult {
  int exit_code = -1;  // -1: killed (timeout or signal)
  std::string out;
  std::string err;
};

// `argv[0]` is looked up in PATH. Throws std::system_error when the program cannot be
// started (error code ENOENT: not installed). The child is killed after `timeout`.
ChildResult run_child(const std::vector<std::string>& argv, std::string_view input,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fnft::daemon
