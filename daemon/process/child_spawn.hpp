// How the daemon starts every program: posix_spawn, never a shell; by absolute path, from the
// system's directories only (find_system_program, never the inherited PATH); with a fixed
// environment (child_environment); stdin, stdout and stderr on pipes. What waits for it is
// the caller's choice: ChildProcess blocks (CLI verbs, benchmarks), AsyncChild runs on the
// reactor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "daemon/process/unique_fd.hpp"

namespace fnft::daemon {

struct ChildResult {
  pid_t pid = -1;
  int exit_code = -1;  // -1: killed (timeout or signal)
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
  // "iptables-nft-restore --noflush exited 1: <first line of stderr>", for error messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

struct SpawnedChild {
  pid_t pid = -1;
  UniqueFd input;   // its stdin (our write end)
  UniqueFd output;  // its stdout (our read end)
  UniqueFd errors;  // its stderr (our read end)
};

// `argv[0]`: an absolute path, or the name of a program in the system's directories. Throws
// std::system_error when it cannot be started (ENOENT: not installed).
SpawnedChild spawn_child(const std::vector<std::string>& argv);

// Waits for `pid` and reaps it: its exit code, or -1 when a signal ended it.
int reap_child(pid_t pid);

}  // namespace fnft::daemon
