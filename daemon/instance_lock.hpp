// One `flannel-nftd run` per network namespace: two daemons with different leases would each
// undo the other's commits forever. The lock is an abstract Unix socket, whose name space
// belongs to the network namespace: binding it fails while another daemon holds it, and
// connecting to it tells who that is (SO_PEERCRED). The kernel releases it when the holder
// exits, however it exits.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <stdexcept>

namespace fnft::daemon {

class InstanceLockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InstanceLock {
 public:
  // Takes the lock or throws InstanceLockError naming the daemon that holds it.
  explicit InstanceLock(boost::asio::io_context& io);

 private:
  // Connections (from a second daemon asking who holds the lock) are accepted and closed.
  void accept_next();

  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::local::stream_protocol::socket peer_;
};

}  // namespace fnft::daemon
