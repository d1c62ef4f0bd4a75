// The devices the flowtable binds to, kept current on the reactor: rtnetlink link and route
// events (netlink::LinkWatcher) become a new device set, decided by
// state::fast_path_devices. Changes are coalesced: a burst of pods coming and going is one
// update once the burst pauses for kSettle, and at least one every kMaxDelay while it lasts.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netlink/link_watcher.hpp"
#include "state/fast_path.hpp"

namespace fnft::daemon {

struct FastPathStats {
  std::uint64_t link_events = 0;     // reads of rtnetlink that changed the view
  std::uint64_t device_updates = 0;  // device sets handed on
  std::uint64_t resyncs = 0;         // links and routes read again after lost events
};

class FastPathController {
 public:
  static constexpr std::chrono::milliseconds kSettle{20};
  static constexpr std::chrono::milliseconds kMaxDelay{100};
  // How soon rtnetlink is tried again when it could not be read after lost events.
  static constexpr std::chrono::seconds kRetry{5};

  // `changed` receives each new device set and what changed, for the log ("+veth1, -veth2").
  using Changed =
      std::function<void(const std::vector<std::string>& devices, const std::string& change)>;

  FastPathController(boost::asio::io_context& io, state::FastPathOptions options, Changed changed);
  ~FastPathController();
  FastPathController(const FastPathController&) = delete;
  FastPathController& operator=(const FastPathController&) = delete;

  // Subscribes to rtnetlink and reads the node's links and routes. Throws NetlinkError.
  void start();
  // Unsubscribes (the fast path is off: the iptables mode).
  void stop();
  // Between start() and stop(), also while rtnetlink cannot be read for a moment (the last
  // device set stays in force and reading is retried).
  bool running() const { return running_; }

  // The devices as last handed on.
  const std::vector<std::string>& devices() const { return devices_; }
  const FastPathStats& stats() const { return stats_; }

 private:
  void watch();
  void wait_readable();
  void drain();
  void reconnect(const std::string& why);
  void consider();
  void publish();

  state::FastPathOptions options_;
  Changed changed_;
  std::unique_ptr<netlink::LinkWatcher> watcher_;
  // Waits on the watcher's fd without owning it: released before the watcher closes it.
  boost::asio::posix::stream_descriptor readable_;
  boost::asio::steady_timer settle_timer_;
  boost::asio::steady_timer retry_timer_;
  bool running_ = false;
  std::optional<std::chrono::steady_clock::time_point> pending_since_;
  std::vector<std::string> devices_;
  std::uint64_t reported_foreign_ = 0;
  FastPathStats stats_;
};

}  // namespace fnft::daemon
