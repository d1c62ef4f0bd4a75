#include "bench/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace fnft::bench {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

std::string ProcessResult::describe(const std::vector<std::string>& argv) const {
  std::string text;
  for (const auto& word : argv) text += (text.empty() ? "" : " ") + word;
  text += signal != 0 ? " was killed by signal " + std::to_string(signal)
                      : " exited " + std::to_string(exit_code);
  if (!err.empty()) text += ": " + err;
  return text;
}

void ignore_sigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, std::string_view input)
    : input_(input) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  Pipe in_pipe;
  Pipe out_pipe;
  Pipe err_pipe;
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in_pipe.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_pipe.write, STDERR_FILENO);
  // We ignore SIGPIPE; the child must not inherit that, since ignored dispositions survive
  // exec. posix_spawn uses vfork semantics (CLONE_VM), as fast as fork+exec gets.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> words = argv;
  std::vector<char*> args;
  for (auto& word : words) args.push_back(word.data());
  args.push_back(nullptr);
  const int error =
      ::posix_spawnp(&pid_, args[0], &setup.actions, &setup.attr, args.data(), environ);
  if (error != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
  }
  in_fd_ = std::exchange(in_pipe.write, -1);
  out_fd_ = std::exchange(out_pipe.read, -1);
  err_fd_ = std::exchange(err_pipe.read, -1);
  ::fcntl(in_fd_, F_SETFL, ::fcntl(in_fd_, F_GETFL) | O_NONBLOCK);
  if (input_.empty()) close_fd(in_fd_);
}

ChildProcess::~ChildProcess() {
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

ProcessResult ChildProcess::wait() {
  ProcessResult result;
  // Writing stdin and reading its output together: a child that complains before it has
  // read all of its input must not deadlock against us.
  while (in_fd_ >= 0 || out_fd_ >= 0 || err_fd_ >= 0) {
    std::array<pollfd, 3> fds{};
    nfds_t count = 0;
    if (in_fd_ >= 0) fds[count++] = {in_fd_, POLLOUT, 0};
    if (out_fd_ >= 0) fds[count++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[count++] = {err_fd_, POLLIN, 0};
    if (::poll(fds.data(), count, -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd_) {
        const ssize_t n = ::write(in_fd_, input_.data(), input_.size());
        if (n > 0) input_.remove_prefix(static_cast<std::size_t>(n));
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || input_.empty()) close_fd(in_fd_);
      } else {
        const bool is_out = fds[i].fd == out_fd_;
        int& fd = is_out ? out_fd_ : err_fd_;
        char buffer[4096];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) (is_out ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close_fd(fd);
      }
    }
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  }
  pid_ = -1;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  while (!result.err.empty() && result.err.back() == '\n') result.err.pop_back();
  return result;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input) {
  return ChildProcess(argv, input).wait();
}

}  // namespace fnft::bench
