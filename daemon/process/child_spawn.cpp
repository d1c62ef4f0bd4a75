#include "daemon/process/child_spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "daemon/process/system_programs.hpp"
#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn's file actions, released however we leave.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  void dup2(int from, int to) { posix_spawn_file_actions_adddup2(&actions_, from, to); }
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

std::string ChildResult::describe(const std::vector<std::string>& argv) const {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  if (timed_out) {
    text += " did not finish in time and was killed";
  } else {
    text += exit_code < 0 ? " was killed" : " exited " + std::to_string(exit_code);
  }
  // A tool's stderr may echo a hostile rule back (iptables-restore quotes the line it
  // refused): it becomes text here, before it reaches the log or the status document.
  const std::string first = state::one_line(err.substr(0, err.find('\n')));
  return first.empty() ? text : text + ": " + first;
}

SpawnedChild spawn_child(const std::vector<std::string>& argv) {
  const std::optional<std::string> program =
      argv.at(0).find('/') != std::string::npos ? argv[0] : find_system_program(argv[0]);
  if (!program) {
    throw std::system_error(
        ENOENT, std::generic_category(),
        "cannot run " + argv[0] + ": not found in " + std::string(kSystemProgramPath));
  }
  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  FileActions actions;
  actions.dup2(in.read.get(), STDIN_FILENO);
  actions.dup2(out.write.get(), STDOUT_FILENO);
  actions.dup2(err.write.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> environment;
  for (const auto& variable : child_environment()) {
    environment.push_back(const_cast<char*>(variable.c_str()));
  }
  environment.push_back(nullptr);
  SpawnedChild child;
  const int spawned = ::posix_spawn(&child.pid, program->c_str(), actions.get(), nullptr,
                                    args.data(), environment.data());
  if (spawned != 0) {
    throw std::system_error(spawned, std::generic_category(), "cannot run " + *program);
  }
  child.input = std::move(in.write);
  child.output = std::move(out.read);
  child.errors = std::move(err.read);
  return child;
}

int reap_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace fnft::daemon
