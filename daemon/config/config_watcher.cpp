#include "daemon/config/config_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <algorithm>
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

constexpr std::string_view kConfigMapDataLink = "..data";

// A directory that does not exist yet (flanneld creates /run/flannel when it starts) is
// looked for again at this interval.
constexpr std::chrono::seconds kMissingDirectoryRetry{1};

}  // namespace

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, const std::vector<std::string>& files,
                             std::function<void()> on_change, std::chrono::milliseconds settle,
                             std::chrono::milliseconds max_delay)
    : inotify_(io, open_inotify()),
      settle_timer_(io),
      retry_timer_(io),
      on_change_(std::move(on_change)),
      settle_(settle),
      max_delay_(max_delay),
      buffer_(64 * 1024) {
  for (const auto& file : files) {
    const std::filesystem::path path(file);
    std::string directory = path.parent_path().string();
    auto& entry = directories_[directory.empty() ? "." : directory];
    entry.names.push_back(path.filename().string());
    // A Kubernetes ConfigMap volume swaps all its files at once by renaming its `..data`
    // symlink; the file names themselves are symlinks through it and see no event.
    entry.names.emplace_back(kConfigMapDataLink);
  }
}

void ConfigWatcher::start() {
  // The caller reads the files as they are now; only what changes after this is news.
  add_missing_watches(/*report_found=*/false);
  read_events();
}

void ConfigWatcher::add_missing_watches(bool report_found) {
  bool missing = false;
  for (auto& [directory, entry] : directories_) {
    if (entry.watch >= 0) continue;
    entry.watch =
        ::inotify_add_watch(inotify_.native_handle(), directory.c_str(), kDirectoryEvents);
    if (entry.watch >= 0) {
      spdlog::debug("watching {} for config changes", directory);
      // It may have appeared with the files already in it.
      if (report_found) changed();
    } else {
      missing = true;
      if (errno != ENOENT) spdlog::warn("cannot watch {}: {}", directory, std::strerror(errno));
    }
  }
  if (!missing) return;
  retry_timer_.expires_after(kMissingDirectoryRetry);
  retry_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) add_missing_watches(/*report_found=*/true);
  });
}

void ConfigWatcher::read_events() {
  inotify_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& error) {
                        if (error) return;
                        const Drained drained = drain_events();
                        if (drained.lost_directory) add_missing_watches(/*report_found=*/true);
                        if (drained.relevant) changed();
                        read_events();
                      });
}

ConfigWatcher::Drained ConfigWatcher::drain_events() {
  Drained drained;
  for (;;) {
    const ssize_t n = ::read(inotify_.native_handle(), buffer_.data(), buffer_.size());
    if (n <= 0) return drained;
    for (ssize_t offset = 0; offset < n;) {
      inotify_event event{};
      std::memcpy(&event, buffer_.data() + offset, sizeof event);
      const char* name = buffer_.data() + offset + sizeof(inotify_event);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      if ((event.mask & IN_Q_OVERFLOW) != 0) {  // events were lost: any of them may be ours
        drained.relevant = true;
        continue;
      }
      for (auto& [directory, entry] : directories_) {
        if (entry.watch != event.wd) continue;
        // The directory itself went away (or was replaced): watch it again once it is back.
        if ((event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
          entry.watch = -1;
          drained.lost_directory = true;
          drained.relevant = true;
        } else if (event.len > 0) {
          const std::string_view changed_name(name, ::strnlen(name, event.len));
          drained.relevant |=
              std::find(entry.names.begin(), entry.names.end(), changed_name) != entry.names.end();
        }
      }
    }
  }
}

void ConfigWatcher::changed() {
  const auto now = std::chrono::steady_clock::now();
  if (!pending_since_) pending_since_ = now;
  settle_timer_.expires_at(std::min(now + settle_, *pending_since_ + max_delay_));
  settle_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    pending_since_.reset();
    on_change_();
  });
}

}  // namespace fnft::daemon
