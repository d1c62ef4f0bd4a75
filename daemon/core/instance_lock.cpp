#include "daemon/core/instance_lock.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "daemon/core/namespace_file_lock.hpp"
#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

using Local = boost::asio::local::stream_protocol;

// A leading NUL makes the name abstract: no file, gone with the socket.
const std::string kAbstractName("\0flannel-nftd.run", 17);
constexpr unsigned kCapNetAdmin = 12;

// Who holds the name, as far as this process can tell.
struct Holder {
  bool listening = false;  // a flannel-nftd listens right after it binds
  pid_t pid = 0;           // 0: in a PID namespace this one cannot see
  uid_t uid = 0;
  std::string command;                  // /proc/PID/comm
  std::optional<bool> has_net_admin{};  // from /proc/PID/status; unknown without a pid
};

// The holder's effective capabilities say whether it could keep nf_tables tables at all.
std::optional<bool> has_net_admin(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    try {
      return ((std::stoull(line.substr(7), nullptr, 16) >> kCapNetAdmin) & 1) != 0;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Holder find_holder(boost::asio::io_context& io) {
  Holder holder;
  // Between a daemon's bind and its listen lie microseconds; a name bound and never
  // listened on for 100 ms is not a daemon's.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Local::socket probe(io);
    boost::system::error_code error;
    probe.connect(Local::endpoint(kAbstractName), error);
    if (error == boost::asio::error::connection_refused) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (error) return holder;  // gone meanwhile, or full: taken as a daemon's
    holder.listening = true;
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(probe.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0)
      return holder;
    holder.pid = credentials.pid;
    holder.uid = credentials.uid;
    if (holder.pid > 0) {
      std::ifstream comm("/proc/" + std::to_string(holder.pid) + "/comm");
      std::getline(comm, holder.command);
      holder.command = state::one_line(holder.command);
      holder.has_net_admin = has_net_admin(holder.pid);
    }
    return holder;
  }
  return holder;
}

bool may_be_a_daemon(const Holder& holder) {
  return holder.listening && holder.has_net_admin.value_or(true);
}

std::string describe_squatter(const Holder& holder) {
  if (!holder.listening) return "a process that bound it without listening";
  return "pid " + std::to_string(holder.pid) + " (`" + holder.command + "`, uid " +
         std::to_string(holder.uid) + "), which has no CAP_NET_ADMIN";
}

}  // namespace

InstanceLock::InstanceLock(boost::asio::io_context& io, const std::string& fallback_directory)
    : acceptor_(io), peer_(io) {
  acceptor_.open(Local());
  boost::system::error_code error;
  acceptor_.bind(Local::endpoint(kAbstractName), error);
  if (error == boost::asio::error::address_in_use) {
    const Holder holder = find_holder(io);
    if (may_be_a_daemon(holder)) {
      throw InstanceLockError(
          "another `flannel-nftd run`" +
          (holder.pid > 0 ? " (pid " + std::to_string(holder.pid) + ")" : std::string()) +
          " already keeps the flannel tables of this network namespace, and two would undo "
          "each other's changes: stop it first (systemctl stop flannel-nftd)");
    }
    acceptor_.close();
    file_lock_ = std::make_unique<NamespaceFileLock>(fallback_directory);
    squatter_ = "the instance lock @flannel-nftd.run is held by " + describe_squatter(holder) +
                ", which cannot be a flannel-nftd; locked " + file_lock_->path() +
                " instead. Find that process (ss -xlp | grep flannel-nftd.run) and stop it";
    spdlog::warn("{}", *squatter_);
    return;
  }
  if (error) throw boost::system::system_error(error, "bind the instance lock socket");
  // A daemon that found the name squatted keeps the file lock even after the squatter left.
  if (const auto pid = NamespaceFileLock::holder(fallback_directory)) {
    throw InstanceLockError(
        "another `flannel-nftd run` (pid " + std::to_string(*pid) +
        ") already keeps the flannel tables of this network namespace (it holds the lock file "
        "under " +
        fallback_directory + "), and two would undo each other's changes: stop it first");
  }
  acceptor_.listen();
  accept_next();
}

InstanceLock::~InstanceLock() = default;

void InstanceLock::accept_next() {
  acceptor_.async_accept(peer_, [this](const boost::system::error_code& error) {
    if (error == boost::asio::error::operation_aborted) return;
    boost::system::error_code ignored;
    peer_.close(ignored);
    accept_next();
  });
}

}  // namespace fnft::daemon
