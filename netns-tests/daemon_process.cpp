#include "netns-tests/daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fnft::netns_test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int open_or_throw(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

TrackedProcess::TrackedProcess(std::vector<std::string> argv, std::string output_file)
    : argv_(std::move(argv)), output_file_(std::move(output_file)) {
  if (argv_.empty()) throw std::invalid_argument("TrackedProcess: empty argv");
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  const int null_fd = open_or_throw("/dev/null", O_RDONLY);
  const int out_fd = open_or_throw(output_file_, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
  std::vector<char*> args;
  for (auto& word : argv_) args.push_back(word.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the test binary died before prctl
    ::setpgid(0, 0);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // the test binary ignores it; exec would keep that
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(null_fd);
  ::close(out_fd);
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_error));
}

TrackedProcess::~TrackedProcess() {
  if (exit_status_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

std::string TrackedProcess::output() const {
  return read_file(output_file_);
}

void TrackedProcess::reap(bool block) {
  if (exit_status_) return;
  int status = 0;
  if (::waitpid(pid_, &status, block ? 0 : WNOHANG) != pid_) return;
  if (WIFEXITED(status)) exit_status_ = "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) exit_status_ = "signal " + std::to_string(WTERMSIG(status));
}

bool TrackedProcess::running() {
  reap(false);
  return !exit_status_;
}

void TrackedProcess::signal(int signal_number) const {
  if (!exit_status_) ::kill(pid_, signal_number);
}

std::optional<std::string> TrackedProcess::wait_exit(std::chrono::milliseconds timeout) {
  eventually([this] { return !running(); }, timeout);
  return exit_status_;
}

CpuTime TrackedProcess::cpu_time() const {
  CpuTime time;
  // /proc/PID/stat: "pid (comm) state ..." where comm may hold spaces; utime and stime are
  // the 14th and 15th fields, i.e. the 12th and 13th after the closing parenthesis.
  const std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    long long ticks = 0;
    for (int i = 1; i <= 13 && fields >> field; ++i) {
      if (i >= 12) ticks += std::stoll(field);
    }
    time.user_plus_system = std::chrono::microseconds(ticks * 1'000'000 / ::sysconf(_SC_CLK_TCK));
  }
  std::istringstream schedstat(read_file("/proc/" + std::to_string(pid_) + "/schedstat"));
  long long runtime_ns = 0;
  if (schedstat >> runtime_ns) time.runtime = std::chrono::nanoseconds(runtime_ns);
  return time;
}

std::string TrackedProcess::describe() const {
  std::string text = "$";
  for (const auto& word : argv_) text += " " + word;
  text += "\n-> pid " + std::to_string(pid_) + ", " + exit_status_.value_or("running") +
          "\n--- output (" + output_file_ + ") ---\n" + output();
  if (text.back() != '\n') text += '\n';
  return text;
}

DaemonProcess::DaemonProcess(const FlannelNode& node, const std::string& subnet_file,
                             const std::string& net_conf_file, std::vector<std::string> options,
                             std::string log_file, std::vector<std::string> wrapper)
    : process_(
          [&] {
            wrapper.insert(wrapper.end(), {FNFT_BINARY, "run", "--subnet-file=" + subnet_file,
                                           "--net-config-path=" + net_conf_file});
            wrapper.insert(wrapper.end(), options.begin(), options.end());
            return in_namespace(node.node(), std::move(wrapper));
          }(),
          std::move(log_file)) {}

bool DaemonProcess::wait_for_log(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
  return eventually([&] { return log().find(needle) != std::string::npos; }, timeout);
}

std::vector<std::string> DaemonProcess::log_lines(const std::string& needle) const {
  return lines_containing(log(), needle);
}

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

}  // namespace fnft::netns_test
