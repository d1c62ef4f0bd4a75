// sd_notify(3) for Type=notify: READY=1, STATUS= lines and the watchdog, fed from the
// reactor so a stuck reactor is what systemd sees and restarts.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <string>

namespace fnft::daemon {

class SystemdNotifier {
 public:
  explicit SystemdNotifier(boost::asio::io_context& io);

  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping();
  // Starts WATCHDOG=1 pings at half of WatchdogSec when the unit asks for them.
  void start_watchdog();

 private:
  void ping_watchdog();

  boost::asio::steady_timer watchdog_timer_;
  std::chrono::microseconds watchdog_interval_{0};
};

}  // namespace fnft::daemon
