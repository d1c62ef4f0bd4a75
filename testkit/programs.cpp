#include "testkit/programs.hpp"

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
#include <thread>
#include <utility>

extern char** environ;

namespace fnft::testkit {
namespace {

using Clock = std::chrono::steady_clock;

std::string quoted_word(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t\n\"'\\;|&$") == std::string::npos) return word;
  std::string text = "'";
  for (const char c : word) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return text + "'";
}

std::string errno_text(const char* what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Writing a child's stdin after it exited must be an EPIPE we handle, not a SIGPIPE that
// kills the whole test binary.
void ignore_sigpipe_once() {
  static const bool done = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2", errno));
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

// The posix_spawn attribute and file-action objects, destroyed on every path.
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

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

std::string RunResult::describe() const {
  std::string text = "$";
  for (const auto& word : argv) text += " " + quoted_word(word);
  if (timed_out) {
    text += "\n-> timed out and was killed";
  } else if (signal != 0) {
    text += "\n-> killed by signal " + std::to_string(signal);
  } else {
    text += "\n-> exit " + std::to_string(exit_code);
  }
  text += "\n--- stdout ---\n" + out;
  if (!out.empty() && out.back() != '\n') text += '\n';
  text += "--- stderr ---\n" + err;
  if (!err.empty() && err.back() != '\n') text += '\n';
  return text;
}

RunResult run(const std::vector<std::string>& argv, std::string_view input,
              std::chrono::milliseconds timeout) {
  return BackgroundProcess(argv, std::string(input)).finish(timeout);
}

RunResult run_checked(const std::vector<std::string>& argv, std::string_view input,
                      std::chrono::milliseconds timeout) {
  RunResult result = run(argv, input, timeout);
  if (!result.ok()) throw std::runtime_error("command failed:\n" + result.describe());
  return result;
}

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv, std::string input)
    : input_(std::move(input)) {
  ignore_sigpipe_once();
  result_.argv = std::move(argv);
  if (result_.argv.empty()) throw std::invalid_argument("BackgroundProcess: empty argv");

  Pipe in_pipe;
  Pipe out_pipe;
  Pipe err_pipe;
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in_pipe.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_pipe.write, STDERR_FILENO);

  // Its own process group, so ending it also ends anything it started; default SIGPIPE
  // and an empty mask, since ignored dispositions would otherwise survive exec.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (auto& word : result_.argv) args.push_back(word.data());
  args.push_back(nullptr);
  const int error =
      ::posix_spawnp(&pid_, args[0], &setup.actions, &setup.attr, args.data(), environ);
  if (error != 0) {
    pid_ = -1;
    throw std::runtime_error(errno_text(("cannot start " + result_.argv[0]).c_str(), error));
  }
  in_fd_ = std::exchange(in_pipe.write, -1);
  out_fd_ = std::exchange(out_pipe.read, -1);
  err_fd_ = std::exchange(err_pipe.read, -1);
  set_nonblocking(in_fd_);
  set_nonblocking(out_fd_);
  set_nonblocking(err_fd_);
  if (input_.empty()) close_fd(in_fd_);
}

BackgroundProcess::BackgroundProcess(BackgroundProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      in_fd_(std::exchange(other.in_fd_, -1)),
      input_(std::move(other.input_)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      result_(std::move(other.result_)) {}

BackgroundProcess::~BackgroundProcess() {
  if (!exited()) {
    ::kill(-pid_, SIGTERM);
    const auto deadline = Clock::now() + 1s;
    while (!exited() && Clock::now() < deadline) {
      reap(false);
      if (!exited()) std::this_thread::sleep_for(5ms);
    }
    kill_and_reap();
  }
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

void BackgroundProcess::reap(bool block) {
  if (exited()) return;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (done != pid_) return;
  pid_ = -1;
  if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
}

void BackgroundProcess::kill_and_reap() {
  if (exited()) return;
  ::kill(-pid_, SIGKILL);
  reap(true);
}

void BackgroundProcess::pump(std::chrono::milliseconds timeout) {
  std::array<pollfd, 3> fds{};
  std::size_t count = 0;
  if (in_fd_ >= 0) fds[count++] = {in_fd_, POLLOUT, 0};
  if (out_fd_ >= 0) fds[count++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[count++] = {err_fd_, POLLIN, 0};
  if (count == 0) {
    // Nothing left to read: only its exit is still to come.
    reap(false);
    if (!exited()) std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(5)));
    return;
  }
  // Short slices so a child that exits while a grandchild holds its pipes is still reaped.
  const int slice = static_cast<int>(std::min(timeout, std::chrono::milliseconds(50)).count());
  if (::poll(fds.data(), count, slice) < 0 && errno != EINTR) {
    throw std::runtime_error(errno_text("poll", errno));
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == in_fd_) {
      const ssize_t written = ::write(in_fd_, input_.data(), input_.size());
      if (written > 0) input_.erase(0, static_cast<std::size_t>(written));
      if ((written < 0 && errno != EAGAIN) || input_.empty()) close_fd(in_fd_);
      continue;
    }
    int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
    std::string& sink = fds[i].fd == out_fd_ ? result_.out : result_.err;
    char buffer[4096];
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) sink.append(buffer, static_cast<std::size_t>(got));
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) close_fd(fd);
  }
  reap(false);
}

bool BackgroundProcess::wait_for(const OutputPredicate& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done(result_.out, result_.err)) {
    const auto now = Clock::now();
    const bool finished = exited() && out_fd_ < 0 && err_fd_ < 0;
    if (now >= deadline || finished) return false;
    pump(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  }
  return true;
}

void BackgroundProcess::read_available() {
  std::size_t before = 0;
  do {
    before = result_.out.size() + result_.err.size();
    pump(0ms);
  } while (result_.out.size() + result_.err.size() != before);
}

bool BackgroundProcess::wait_for_stdout(std::string_view needle,
                                        std::chrono::milliseconds timeout) {
  return wait_for([needle](const std::string& out,
                           const std::string&) { return out.find(needle) != std::string::npos; },
                  timeout);
}

bool BackgroundProcess::wait_for_stderr(std::string_view needle,
                                        std::chrono::milliseconds timeout) {
  return wait_for(
      [needle](const std::string&, const std::string& err) {
        return err.find(needle) != std::string::npos;
      },
      timeout);
}

RunResult BackgroundProcess::finish(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!exited() && Clock::now() < deadline) {
    pump(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  }
  if (!exited()) {
    result_.timed_out = true;
    kill_and_reap();
  }
  // Collect what it printed before exiting; bounded in case a stray descendant holds a pipe.
  const auto drain_deadline = Clock::now() + 1s;
  while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_deadline) pump(50ms);
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
  return result_;
}

RunResult BackgroundProcess::stop(int signal_number) {
  if (!exited()) ::kill(-pid_, signal_number);
  return finish(2s);
}

}  // namespace fnft::testkit
