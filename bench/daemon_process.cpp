#include "bench/daemon_process.hpp"

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
#include <thread>

#include "daemon/process/unique_fd.hpp"

namespace fnft::bench {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uint64_t status_kib(const std::string& status, const std::string& key) {
  const auto at = status.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  return std::stoull(status.substr(at + key.size() + 2));
}

}  // namespace

DaemonProcess::DaemonProcess(const std::string& binary, const std::vector<std::string>& args,
                             const std::filesystem::path& log_file) {
  UniqueFd log(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) {
    throw std::runtime_error("cannot open " + log_file.string() + ": " + std::strerror(errno));
  }
  // Everything the child needs is built before fork: the benchmark has threads, so between
  // fork and exec only async-signal-safe calls are allowed.
  std::vector<std::string> words{binary};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the benchmark is already gone
    ::dup2(log.get(), STDOUT_FILENO);
    ::dup2(log.get(), STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) stop();
}

void DaemonProcess::record_exit(int status) {
  pid_ = -1;
  if (WIFEXITED(status)) {
    exit_description_ = "exited " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    exit_description_ = "killed by signal " + std::to_string(WTERMSIG(status));
  }
}

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) record_exit(status);
  return pid_ > 0;
}

std::string DaemonProcess::stop() {
  if (!running()) return exit_description_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) record_exit(status);
    exit_description_ += " (did not stop within 5 s of SIGTERM)";
  }
  return exit_description_;
}

CpuTime DaemonProcess::cpu_time() const {
  CpuTime cpu;
  cpu.tick_seconds = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const std::string prefix = "/proc/" + std::to_string(pid_);
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const std::string stat = read_file(prefix + "/stat");
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    // After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
    // cmajflt utime(14) stime(15) cutime(16) cstime(17).
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    std::uint64_t cutime = 0;
    std::uint64_t cstime = 0;
    for (int index = 3; fields >> field && index <= 17; ++index) {
      if (index == 14) utime = std::stoull(field);
      if (index == 15) stime = std::stoull(field);
      if (index == 16) cutime = std::stoull(field);
      if (index == 17) cstime = std::stoull(field);
    }
    cpu.ticks = utime + stime;
    cpu.children_ticks = cutime + cstime;
  }
  std::istringstream schedstat(read_file(prefix + "/schedstat"));
  schedstat >> cpu.runtime_ns;
  return cpu;
}

Memory DaemonProcess::memory() const {
  const std::string status = "\n" + read_file("/proc/" + std::to_string(pid_) + "/status");
  return {status_kib(status, "VmRSS"), status_kib(status, "VmHWM")};
}

}  // namespace fnft::bench
