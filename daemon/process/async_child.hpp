// Runs a program on the reactor: its input is written, its output read and its exit waited
// for (through a pidfd) as Asio operations, so no child ever blocks the reactor; a timeout
// kills it. Children are started with spawn_child: never a shell, never the inherited PATH.
#pragma once

#include <sys/types.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/process/child_spawn.hpp"

namespace fnft::daemon {

class AsyncChild : public std::enable_shared_from_this<AsyncChild> {
 public:
  using Done = std::function<void(ChildResult)>;

  // Starts `argv` (throws std::system_error when it cannot be started) and returns its pid
  // at once; `done` runs on the reactor once it has exited and its output is read.
  static pid_t start(boost::asio::io_context& io, const std::vector<std::string>& argv,
                     std::string input, std::chrono::milliseconds timeout, Done done);

  // A child still running when the reactor goes away is killed and reaped.
  ~AsyncChild();
  AsyncChild(const AsyncChild&) = delete;
  AsyncChild& operator=(const AsyncChild&) = delete;

 private:
  using Descriptor = boost::asio::posix::stream_descriptor;
  // A pipe the child writes to, read to its end. Each has its own buffer: both pipes' reads
  // can complete in one turn of the reactor, before either's handler has copied its bytes.
  struct OutputPipe {
    OutputPipe(boost::asio::io_context& io, int fd) : pipe(io, fd) {}
    Descriptor pipe;
    std::array<char, 8192> chunk{};
    bool finished = false;
  };

  AsyncChild(boost::asio::io_context& io, SpawnedChild spawned, std::string input, Done done);
  void begin(std::chrono::milliseconds timeout);
  void read_more(OutputPipe& from, std::string& sink);
  void finish_if_done();

  pid_t pid_;
  std::string input_;
  Done done_;
  Descriptor input_pipe_;
  OutputPipe output_pipe_;
  OutputPipe error_pipe_;
  Descriptor exit_;  // the pidfd: readable once the child has exited
  boost::asio::steady_timer deadline_;
  ChildResult result_;
  bool exited_ = false;
  bool finished_ = false;
};

}  // namespace fnft::daemon
