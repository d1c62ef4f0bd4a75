#include "daemon/process/async_child.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <system_error>

namespace fnft::daemon {
namespace {

// Debian 12's <sys/pidfd.h> declares these without C linkage, so they are called directly.
int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

void kill_through(int pidfd) {
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

}  // namespace

pid_t AsyncChild::start(boost::asio::io_context& io, const std::vector<std::string>& argv,
                        std::string input, std::chrono::milliseconds timeout, Done done) {
  std::shared_ptr<AsyncChild> child(
      new AsyncChild(io, spawn_child(argv), std::move(input), std::move(done)));
  child->begin(timeout);
  return child->pid_;
}

AsyncChild::AsyncChild(boost::asio::io_context& io, SpawnedChild spawned, std::string input,
                       Done done)
    : pid_(spawned.pid),
      input_(std::move(input)),
      done_(std::move(done)),
      input_pipe_(io, spawned.input.release()),
      output_pipe_(io, spawned.output.release()),
      error_pipe_(io, spawned.errors.release()),
      exit_(io),
      deadline_(io) {
  result_.pid = pid_;
  const int pidfd = open_pidfd(pid_);
  if (pidfd < 0) {
    const int error = errno;
    ::kill(pid_, SIGKILL);
    reap_child(pid_);
    finished_ = true;
    throw std::system_error(error, std::generic_category(), "pidfd_open");
  }
  exit_.assign(pidfd);
}

AsyncChild::~AsyncChild() {
  if (finished_) return;
  ::kill(pid_, SIGKILL);
  reap_child(pid_);
}

void AsyncChild::begin(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  if (input_.empty()) {
    input_pipe_.close();
  } else {
    boost::asio::async_write(input_pipe_, boost::asio::buffer(input_),
                             [self](const boost::system::error_code&, std::size_t) {
                               // Written, or the child stopped reading: either way, EOF.
                               boost::system::error_code ignored;
                               self->input_pipe_.close(ignored);
                             });
  }
  read_more(output_pipe_, result_.out);
  read_more(error_pipe_, result_.err);
  exit_.async_wait(Descriptor::wait_read, [self](const boost::system::error_code&) {
    self->exited_ = true;
    self->finish_if_done();
  });
  deadline_.expires_after(timeout);
  deadline_.async_wait([self](const boost::system::error_code& error) {
    if (error || self->finished_) return;
    self->result_.timed_out = true;
    kill_through(self->exit_.native_handle());
    // A grandchild could hold the pipes open: stop reading them.
    boost::system::error_code ignored;
    self->output_pipe_.pipe.close(ignored);
    self->error_pipe_.pipe.close(ignored);
  });
}

void AsyncChild::read_more(OutputPipe& from, std::string& sink) {
  auto self = shared_from_this();
  from.pipe.async_read_some(
      boost::asio::buffer(from.chunk),
      [self, &from, &sink](const boost::system::error_code& error, std::size_t n) {
        sink.append(from.chunk.data(), n);
        if (error) {
          from.finished = true;
          self->finish_if_done();
          return;
        }
        self->read_more(from, sink);
      });
}

void AsyncChild::finish_if_done() {
  if (finished_ || !output_pipe_.finished || !error_pipe_.finished || !exited_) return;
  finished_ = true;
  deadline_.cancel();
  result_.exit_code = reap_child(pid_);
  if (result_.timed_out) result_.exit_code = -1;
  boost::system::error_code ignored;
  exit_.close(ignored);
  // The last reference may be the handler running this: done_ goes out with `self`.
  auto done = std::move(done_);
  done(std::move(result_));
}

}  // namespace fnft::daemon
