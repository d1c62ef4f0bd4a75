#include "daemon/core/process_lineage.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

// /proc/PID/stat is "PID (COMM) STATE PPID ...", and COMM may hold spaces and parentheses:
// the fields after it start after its last ')'.
std::uint32_t parent_pid_of(std::uint32_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return 0;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  long long parent = 0;
  if (!(fields >> state >> parent) || parent <= 0) return 0;
  return static_cast<std::uint32_t>(parent);
}

std::string name_of(std::uint32_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return state::one_line(name);
}

}  // namespace

state::Committer committer_with_parent(std::uint32_t pid, const std::string& name) {
  state::Committer committer{state::one_line(name), pid, {}, 0};
  // NEWGEN's pid is the kernel's (the initial pid namespace's); in a container without the
  // host's pid namespace /proc may show another process under it, so the name must agree.
  if (pid == 0 || name_of(pid) != committer.name) return committer;
  const std::uint32_t parent = parent_pid_of(pid);
  if (parent == 0) return committer;
  committer.parent_name = name_of(parent);
  if (!committer.parent_name.empty()) committer.parent_pid = parent;
  return committer;
}

}  // namespace fnft::daemon
