// One `flannel-nftd run` per network namespace: two daemons with different leases would each
// undo the other's commits forever. The lock is an abstract Unix socket, whose name space
// belongs to the network namespace: binding it fails while another daemon holds it, and
// connecting to it tells who that is (SO_PEERCRED). The kernel releases it when the holder
// exits, however it exits.
//
// Any local user can bind an abstract name. A holder that cannot be a flannel-nftd (it does
// not listen, or lacks CAP_NET_ADMIN) is not obeyed: the lock is then a file under
// /run/flannel-nftd, which only root can write, and a warning names the squatter.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace fnft::daemon {

class NamespaceFileLock;

class InstanceLockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kInstanceLockDirectory = "/run/flannel-nftd";

class InstanceLock {
 public:
  // Takes the lock or throws InstanceLockError naming the daemon that holds it.
  explicit InstanceLock(boost::asio::io_context& io,
                        const std::string& fallback_directory = kInstanceLockDirectory);
  ~InstanceLock();

  // Set while the abstract name is held by a process that is not a flannel-nftd: what
  // `status` warns of.
  const std::optional<std::string>& squatter() const { return squatter_; }

 private:
  // Connections (from a second daemon asking who holds the lock) are accepted and closed.
  void accept_next();

  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::local::stream_protocol::socket peer_;
  std::unique_ptr<NamespaceFileLock> file_lock_;
  std::optional<std::string> squatter_;
};

}  // namespace fnft::daemon
