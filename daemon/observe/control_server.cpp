#include "daemon/observe/control_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace fnft::daemon {

namespace local = boost::asio::local;

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, Report report)
    : io_(io), path_(std::move(path)), report_(std::move(report)), acceptor_(io), retry_(io) {}

ControlServer::~ControlServer() {
  if (!bound_) return;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Only our own socket: a daemon started after us (another namespace given the same path)
  // may have replaced it with its own, which it still serves.
  struct stat now {};
  if (::lstat(path_.c_str(), &now) == 0 && now.st_dev == bound_file_.st_dev &&
      now.st_ino == bound_file_.st_ino) {
    ::unlink(path_.c_str());
  }
}

void ControlServer::start() {
  namespace fs = std::filesystem;
  // Checked before anything is created: the kernel takes at most this many bytes, and an
  // endpoint that cuts the path short would bind somewhere else.
  constexpr std::size_t kLongestPath = sizeof(sockaddr_un::sun_path) - 1;
  if (path_.size() > kLongestPath) {
    throw std::runtime_error(path_ + " is " + std::to_string(path_.size()) +
                             " bytes long, longer than a Unix socket's path may be (" +
                             std::to_string(kLongestPath) + "): choose a shorter --control-socket");
  }
  std::error_code error;
  const fs::path path(path_);
  // The directories made here are removed again should the socket not come up.
  std::vector<fs::path> created;
  for (fs::path dir = path.parent_path(); !dir.empty() && !fs::exists(dir, error);
       dir = dir.parent_path()) {
    created.push_back(dir);
    if (dir == dir.parent_path()) break;
  }
  auto remove_created = [&created] {
    std::error_code ignored;
    for (const auto& dir : created) fs::remove(dir, ignored);  // only while still empty
  };
  if (!created.empty()) {
    fs::create_directories(path.parent_path(), error);
    if (error) {
      remove_created();
      throw std::runtime_error("cannot create " + path.parent_path().string() + " for " + path_ +
                               ": " + error.message() +
                               " (the unit's RuntimeDirectory= creates it; or --control-socket)");
    }
  }
  try {
    bind_socket();
  } catch (...) {
    remove_created();
    throw;
  }
  accept();
}

void ControlServer::bind_socket() {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path path(path_);
  // Only one daemon runs per network namespace (the instance lock); a socket file at the
  // path is a dead daemon's, or another namespace's daemon given the same path, which the
  // connect below tells apart.
  if (fs::is_socket(fs::symlink_status(path, error))) {
    local::stream_protocol::socket probe(io_);
    boost::system::error_code connect_error;
    probe.connect(local::stream_protocol::endpoint(path_), connect_error);
    if (!connect_error) {
      throw std::runtime_error(path_ +
                               " is served by another running flannel-nftd (another network "
                               "namespace?): give each daemon its own --control-socket");
    }
    fs::remove(path, error);
  } else if (fs::exists(fs::symlink_status(path, error))) {
    throw std::runtime_error(path_ +
                             " exists and is not a socket: remove it or choose another "
                             "--control-socket");
  }
  // Created 0600 from the start: a umask for the bind, never a window with wider access.
  const mode_t old_mask = ::umask(0177);
  boost::system::error_code bind_error;
  acceptor_.open(local::stream_protocol(), bind_error);
  if (!bind_error) acceptor_.bind(local::stream_protocol::endpoint(path_), bind_error);
  ::umask(old_mask);
  if (!bind_error) acceptor_.listen(16, bind_error);
  if (!bind_error && ::lstat(path_.c_str(), &bound_file_) != 0)
    bind_error.assign(errno, boost::system::system_category());
  if (bind_error) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    throw std::runtime_error("cannot serve " + path_ + ": " + bind_error.message());
  }
  bound_ = true;
}

void ControlServer::accept() {
  acceptor_.async_accept(
      [this](const boost::system::error_code& error, local::stream_protocol::socket client) {
        if (error == boost::asio::error::operation_aborted) return;
        if (!error) {
          auto connection = std::make_shared<local::stream_protocol::socket>(std::move(client));
          report_([connection](std::string text) {
            auto document = std::make_shared<std::string>(std::move(text) + "\n");
            boost::asio::async_write(
                *connection, boost::asio::buffer(*document),
                [connection, document](const boost::system::error_code&, std::size_t) {
                  boost::system::error_code ignored;
                  connection->shutdown(local::stream_protocol::socket::shutdown_both, ignored);
                });
          });
          accept();
          return;
        }
        spdlog::debug("control socket: accept failed: {}", error.message());
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](const boost::system::error_code& wait_error) {
          if (!wait_error) accept();
        });
      });
}

}  // namespace fnft::daemon
