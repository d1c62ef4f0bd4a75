// The running daemon's state for `flannel-nftd status`: a Unix stream socket (mode 0600) on
// the reactor; each client that connects gets the state as one JSON document, and the
// connection is closed. The socket never blocks the reactor: accepts and writes are Asio
// operations, and a write waits for nothing but the socket's own buffer.
#pragma once

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

namespace fnft::daemon {

inline constexpr const char* kDefaultControlSocket = "/run/flannel-nftd/control.sock";

class ControlServer {
 public:
  // `report` makes the JSON document, on the reactor, when a client connects, and hands it
  // to `reply` (at once, or once what it needed to read has been read).
  using Reply = std::function<void(std::string)>;
  using Report = std::function<void(Reply reply)>;

  ControlServer(boost::asio::io_context& io, std::string path, Report report);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds (replacing a stale socket file left by a daemon that died) and starts serving.
  // Throws std::runtime_error naming the path and what to do.
  void start();
  const std::string& path() const { return path_; }

 private:
  void bind_socket();
  void accept();

  boost::asio::io_context& io_;
  std::string path_;
  Report report_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept (EMFILE): never a busy loop
  bool bound_ = false;
  struct stat bound_file_ {};  // the socket file we bound: the one the destructor removes
};

}  // namespace fnft::daemon
