#include "daemon/core/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace fnft::daemon {

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io) : watchdog_timer_(io) {}

void SystemdNotifier::ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void SystemdNotifier::status(const std::string& status) {
  sd_notify(0, ("STATUS=" + status).c_str());
}

void SystemdNotifier::stopping() {
  sd_notify(0, "STOPPING=1");
}

void SystemdNotifier::start_watchdog() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  watchdog_interval_ = std::chrono::microseconds(usec / 2);
  ping_watchdog();
}

void SystemdNotifier::ping_watchdog() {
  sd_notify(0, "WATCHDOG=1");
  watchdog_timer_.expires_after(watchdog_interval_);
  watchdog_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) ping_watchdog();
  });
}

}  // namespace fnft::daemon
