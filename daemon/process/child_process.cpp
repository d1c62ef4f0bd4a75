#include "daemon/process/child_process.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace fnft::daemon {
namespace {

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

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, std::string input)
    : child_(spawn_child(argv)), input_(std::move(input)) {}

ChildProcess::~ChildProcess() {
  if (child_.pid <= 0) return;
  ::kill(child_.pid, SIGKILL);
  reap_child(child_.pid);
}

ChildResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  ChildResult result;
  result.pid = child_.pid;
  std::size_t written = 0;
  if (input_.empty()) child_.input.reset();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (child_.output.valid() || child_.errors.valid()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(child_.pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{{{child_.input.get(), POLLOUT, 0},
                               {child_.output.get(), POLLIN, 0},
                               {child_.errors.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLOUT | POLLERR)) != 0) {
      const ssize_t n =
          ::write(child_.input.get(), input_.data() + written, input_.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input_.size()) child_.input.reset();
    }
    drain(fds[1], child_.output, result.out);
    drain(fds[2], child_.errors, result.err);
  }
  child_.input.reset();
  result.exit_code = reap_child(std::exchange(child_.pid, -1));
  if (result.timed_out) result.exit_code = -1;
  return result;
}

}  // namespace fnft::daemon
