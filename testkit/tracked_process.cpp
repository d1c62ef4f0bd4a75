#include "testkit/tracked_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "testkit/eventually.hpp"

namespace fnft::testkit {
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

std::uint64_t status_kib(const std::string& status, const std::string& key) {
  const auto at = status.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  return std::stoull(status.substr(at + key.size() + 2));
}

std::chrono::microseconds ticks_to_micros(long long ticks) {
  return std::chrono::microseconds(ticks * 1'000'000 / ::sysconf(_SC_CLK_TCK));
}

}  // namespace

TrackedProcess::TrackedProcess(std::vector<std::string> argv, std::string output_file,
                               int death_signal, OutputFile mode)
    : argv_(std::move(argv)), output_file_(std::move(output_file)) {
  if (argv_.empty()) throw std::invalid_argument("TrackedProcess: empty argv");
  // Everything the child needs is prepared before fork: callers have threads, so between
  // fork and exec only async-signal-safe calls are allowed.
  const int null_fd = open_or_throw("/dev/null", O_RDONLY);
  const int out_fd = open_or_throw(
      output_file_, O_WRONLY | O_CREAT | O_APPEND | (mode == OutputFile::truncate ? O_TRUNC : 0));
  std::vector<char*> args;
  for (auto& word : argv_) args.push_back(word.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    if (::getppid() != parent) ::_exit(127);  // the caller died before prctl
    ::setpgid(0, 0);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // test binaries ignore it; exec would keep that
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

std::string TrackedProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return *exit_status_;
  signal(SIGTERM);
  if (wait_exit(grace)) return *exit_status_;
  ::kill(pid_, SIGKILL);
  reap(true);
  *exit_status_ += " (did not stop within " + std::to_string(grace.count()) + " ms of SIGTERM)";
  return *exit_status_;
}

CpuTime TrackedProcess::cpu_time() const {
  CpuTime time;
  const std::string proc = "/proc/" + std::to_string(pid_);
  // "pid (comm) state ..." where comm may hold spaces and parentheses: fields are counted
  // after the last ')'. utime, stime, cutime, cstime are fields 14 to 17, i.e. the 12th to
  // 15th after it.
  const std::string stat = read_file(proc + "/stat");
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    long long own = 0;
    long long children = 0;
    for (int i = 1; i <= 15 && fields >> field; ++i) {
      if (i == 12 || i == 13) own += std::stoll(field);
      if (i == 14 || i == 15) children += std::stoll(field);
    }
    time.user_plus_system = ticks_to_micros(own);
    time.children = ticks_to_micros(children);
  }
  std::istringstream schedstat(read_file(proc + "/schedstat"));
  long long runtime_ns = 0;
  if (schedstat >> runtime_ns) time.runtime = std::chrono::nanoseconds(runtime_ns);
  return time;
}

Memory TrackedProcess::memory() const {
  const std::string status = "\n" + read_file("/proc/" + std::to_string(pid_) + "/status");
  return {status_kib(status, "VmRSS"), status_kib(status, "VmHWM")};
}

std::string TrackedProcess::describe() const {
  std::string text = "$";
  for (const auto& word : argv_) text += " " + word;
  text += "\n-> pid " + std::to_string(pid_) + ", " + exit_status() + "\n--- output (" +
          output_file_ + ") ---\n" + output();
  if (text.back() != '\n') text += '\n';
  return text;
}

}  // namespace fnft::testkit
