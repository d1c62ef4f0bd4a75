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

#include "daemon/unique_fd.hpp"

extern char** environ;

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

int wait_for(pid_t pid, bool kill_first) {
  if (kill_first) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, std::string_view input,
                      std::chrono::milliseconds timeout) {
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
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), environ);
  if (spawned != 0)
    throw std::system_error(spawned, std::generic_category(), "cannot run " + argv[0]);
  in.read.reset();
  out.write.reset();
  err.write.reset();

  ChildResult result;
  std::size_t written = 0;
  if (input.empty()) in.write.reset();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.read.valid() || err.read.valid()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.exit_code = wait_for(pid, /*kill_first=*/true);
      result.err += "(killed after " + std::to_string(timeout.count()) + " ms)";
      result.exit_code = -1;
      return result;
    }
    std::array<pollfd, 3> fds{
        {{in.write.get(), POLLOUT, 0}, {out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLOUT | POLLERR)) != 0) {
      const ssize_t n = ::write(in.write.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) in.write.reset();
    }
    drain(fds[1], out.read, result.out);
    drain(fds[2], err.read, result.err);
  }
  in.write.reset();
  result.exit_code = wait_for(pid, /*kill_first=*/false);
  return result;
}

}  // namespace fnft::daemon
