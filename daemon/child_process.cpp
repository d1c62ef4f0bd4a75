#include "daemon/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "daemon/system_programs.hpp"

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

// Reads what `fd` has ready into `sink`; closes it at end of file.
void drain(const pollfd& polled, UniqueFd& fd, std::string& sink) {
  if ((polled.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
  char buffer[8192];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n > 0) {
    sink.append(buffer, static_cast<std::size_t>(n));
  } else if (n == 0 || errno != EINTR) {
    fd.reset();
  }
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string ChildResult::describe(const std::vector<std::string>& argv) const {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  text += exit_code < 0 ? " was killed" : " exited " + std::to_string(exit_code);
  const std::string first = err.substr(0, err.find('\n'));
  return first.empty() ? text : text + ": " + first;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, std::string input)
    : input_(std::move(input)) {
  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  FileActions actions;
  actions.dup2(in.read.get(), STDIN_FILENO);
  actions.dup2(out.write.get(), STDOUT_FILENO);
  actions.dup2(err.write.get(), STDERR_FILENO);
  // A bare name is one of the system's programs; PATH is never searched.
  const std::optional<std::string> program =
      argv.at(0).find('/') != std::string::npos ? argv[0] : find_system_program(argv[0]);
  if (!program) {
    throw std::system_error(
        ENOENT, std::generic_category(),
        "cannot run " + argv[0] + ": not found in " + std::string(kSystemProgramPath));
  }
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> environment;
  for (const auto& variable : child_environment()) {
    environment.push_back(const_cast<char*>(variable.c_str()));
  }
  environment.push_back(nullptr);
  const int spawned = ::posix_spawn(&pid_, program->c_str(), actions.get(), nullptr, args.data(),
                                    environment.data());
  if (spawned != 0) {
    pid_ = -1;
    throw std::system_error(spawned, std::generic_category(), "cannot run " + argv[0]);
  }
  in_ = std::move(in.write);
  out_ = std::move(out.read);
  err_ = std::move(err.read);
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(pid_);
}

ChildResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  ChildResult result;
  std::size_t written = 0;
  if (input_.empty()) in_.reset();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_.valid() || err_.valid()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid_, SIGKILL);
      break;
    }
    std::array<pollfd, 3> fds{
        {{in_.get(), POLLOUT, 0}, {out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLOUT | POLLERR)) != 0) {
      const ssize_t n = ::write(in_.get(), input_.data() + written, input_.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input_.size()) in_.reset();
    }
    drain(fds[1], out_, result.out);
    drain(fds[2], err_, result.err);
  }
  in_.reset();
  result.exit_code = reap(std::exchange(pid_, -1));
  return result;
}

}  // namespace fnft::daemon
