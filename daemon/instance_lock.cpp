#include "daemon/instance_lock.hpp"

#include <sys/socket.h>

#include <string>

namespace fnft::daemon {
namespace {

using Local = boost::asio::local::stream_protocol;

// A leading NUL makes the name abstract: no file, gone with the socket.
const std::string kAbstractName("\0flannel-nftd.run", 17);

// The pid of the process that listens on the lock, or 0 when it cannot be told.
pid_t holder_pid(boost::asio::io_context& io) {
  Local::socket probe(io);
  boost::system::error_code error;
  probe.connect(Local::endpoint(kAbstractName), error);
  if (error) return 0;
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(probe.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return 0;
  }
  return credentials.pid;
}

}  // namespace

InstanceLock::InstanceLock(boost::asio::io_context& io) : acceptor_(io), peer_(io) {
  acceptor_.open(Local());
  boost::system::error_code error;
  acceptor_.bind(Local::endpoint(kAbstractName), error);
  if (error == boost::asio::error::address_in_use) {
    const pid_t pid = holder_pid(io);
    throw InstanceLockError(
        "another `flannel-nftd run`" +
        (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
        " already keeps the flannel tables of this network namespace, and two would undo each "
        "other's changes: stop it first (systemctl stop flannel-nftd)");
  }
  if (error) throw boost::system::system_error(error, "bind the instance lock socket");
  acceptor_.listen();
  accept_next();
}

void InstanceLock::accept_next() {
  acceptor_.async_accept(peer_, [this](const boost::system::error_code& error) {
    if (error == boost::asio::error::operation_aborted) return;
    boost::system::error_code ignored;
    peer_.close(ignored);
    accept_next();
  });
}

}  // namespace fnft::daemon
