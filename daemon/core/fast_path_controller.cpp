#include "daemon/core/fast_path_controller.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "netlink/netlink_error.hpp"

namespace fnft::daemon {
namespace {

// A change is logged with at most this many names, then "and N more".
constexpr std::size_t kNamesLogged = 8;

std::string change_text(const std::vector<std::string>& before,
                        const std::vector<std::string>& after) {
  std::vector<std::string> added, removed;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(removed));
  std::string text;
  std::size_t named = 0;
  const auto name = [&](char sign, const std::vector<std::string>& names) {
    for (const auto& device : names) {
      if (named++ == kNamesLogged) break;
      text += (text.empty() ? "" : ", ") + std::string(1, sign) + device;
    }
  };
  name('+', added);
  name('-', removed);
  if (const std::size_t total = added.size() + removed.size(); total > kNamesLogged) {
    text += " and " + std::to_string(total - kNamesLogged) + " more (" +
            std::to_string(added.size()) + " added, " + std::to_string(removed.size()) +
            " removed)";
  }
  return text;
}

}  // namespace

FastPathController::FastPathController(boost::asio::io_context& io, state::FastPathOptions options,
                                       Changed changed)
    : options_(std::move(options)),
      changed_(std::move(changed)),
      readable_(io),
      settle_timer_(io),
      retry_timer_(io) {}

FastPathController::~FastPathController() {
  stop();
}

void FastPathController::start() {
  if (running_) return;
  watcher_ = std::make_unique<netlink::LinkWatcher>();
  running_ = true;
  watch();
  // The first set is known at once: the first commit of the fast path need not wait.
  devices_ = state::fast_path_devices(watcher_->links(), watcher_->default_routes(), options_);
  ++stats_.device_updates;
  spdlog::info("fast path: {} device(s): {}", devices_.size(), change_text({}, devices_));
}

void FastPathController::stop() {
  if (!running_) return;
  running_ = false;
  settle_timer_.cancel();
  retry_timer_.cancel();
  pending_since_.reset();
  if (readable_.is_open()) {
    readable_.cancel();
    readable_.release();
  }
  watcher_.reset();
  devices_.clear();
}

void FastPathController::watch() {
  readable_.assign(watcher_->fd());
  wait_readable();
}

void FastPathController::wait_readable() {
  readable_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& error) {
                         if (error || !running_) return;
                         drain();
                       });
}

void FastPathController::drain() {
  const auto received = watcher_->receive();
  if (watcher_->foreign_messages() != reported_foreign_) {
    spdlog::warn(
        "dropped {} rtnetlink message(s) that the kernel did not send (a process in this "
        "network namespace with CAP_NET_ADMIN): only the kernel's messages are believed",
        watcher_->foreign_messages() - reported_foreign_);
    reported_foreign_ = watcher_->foreign_messages();
  }
  if (received.lost) {
    reconnect(*received.lost);
    return;
  }
  if (received.changed) {
    ++stats_.link_events;
    consider();
  }
  wait_readable();
}

void FastPathController::reconnect(const std::string& why) {
  ++stats_.resyncs;
  // The old fd is closed by the watcher: Asio must forget it first.
  if (readable_.is_open()) readable_.release();
  try {
    watcher_->reconnect();
  } catch (const netlink::NetlinkError& error) {
    // The last device set stays in force meanwhile.
    spdlog::error(
        "{} and rtnetlink could not be read again: {}; the fast path keeps its last {} "
        "device(s) and tries again in {} s",
        why, error.what(), devices_.size(), kRetry.count());
    retry_timer_.expires_after(kRetry);
    retry_timer_.async_wait([this](const boost::system::error_code& failed) {
      if (!failed && running_) reconnect("rtnetlink could not be read");
    });
    return;
  }
  spdlog::info("{}: links and routes read again", why);
  watch();
  consider();
}

void FastPathController::consider() {
  const auto now = std::chrono::steady_clock::now();
  if (!pending_since_) pending_since_ = now;
  // Wait for the burst to pause, but never longer than kMaxDelay in all.
  settle_timer_.expires_at(std::min(now + kSettle, *pending_since_ + kMaxDelay));
  settle_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    publish();
  });
}

void FastPathController::publish() {
  pending_since_.reset();
  if (!running_) return;
  auto devices = state::fast_path_devices(watcher_->links(), watcher_->default_routes(), options_);
  if (devices == devices_) return;
  const std::string change = change_text(devices_, devices);
  devices_ = std::move(devices);
  ++stats_.device_updates;
  changed_(devices_, change);
}

}  // namespace fnft::daemon
