#include "daemon/config_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace fnft::daemon {
namespace {

int open_inotify() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  return fd;
}

constexpr std::uint32_t kDirectoryEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                           IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

// A directory that does not exist yet (flanneld creates /run/flannel when it starts) is
// looked for again at this interval.
constexpr std::chrono::seconds kMissingDirectoryRetry{1};

}  // namespace

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, const std::vector<std::string>& files,
                             std::function<void()> on_change, std::chrono::milliseconds settle)
    : inotify_(io, open_inotify()),
      settle_timer_(io),
      retry_timer_(io),
      on_change_(std::move(on_change)),
      settle_(settle),
      buffer_(64 * 1024) {
  for (const auto& file : files) {
    std::string directory = std::filesystem::path(file).parent_path().string();
    directories_.emplace(directory.empty() ? "." : directory, -1);
  }
}

void ConfigWatcher::start() {
  add_missing_watches();
  read_events();
}

void ConfigWatcher::add_missing_watches() {
  bool missing = false;
  for (auto& [directory, watch] : directories_) {
    if (watch >= 0) continue;
    watch = ::inotify_add_watch(inotify_.native_handle(), directory.c_str(), kDirectoryEvents);
    if (watch >= 0) {
      spdlog::debug("watching {} for config changes", directory);
      // It may have appeared with the files already in it.
      changed();
    } else {
      missing = true;
      if (errno != ENOENT) spdlog::warn("cannot watch {}: {}", directory, std::strerror(errno));
    }
  }
  if (!missing) return;
  retry_timer_.expires_after(kMissingDirectoryRetry);
  retry_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) add_missing_watches();
  });
}

void ConfigWatcher::read_events() {
  inotify_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& error) {
                        if (error) return;
                        if (drain_events()) add_missing_watches();
                        changed();
                        read_events();
                      });
}

bool ConfigWatcher::drain_events() {
  bool lost_directory = false;
  for (;;) {
    const ssize_t n = ::read(inotify_.native_handle(), buffer_.data(), buffer_.size());
    if (n <= 0) return lost_directory;
    for (ssize_t offset = 0; offset < n;) {
      inotify_event event{};
      std::memcpy(&event, buffer_.data() + offset, sizeof event);
      // The directory itself went away (or was replaced): watch it again once it is back.
      if ((event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        for (auto& [directory, watch] : directories_) {
          if (watch == event.wd) watch = -1;
        }
        lost_directory = true;
      }
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
    }
  }
}

void ConfigWatcher::changed() {
  settle_timer_.expires_after(settle_);
  settle_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) on_change_();
  });
}

}  // namespace fnft::daemon
