// `flannel-nftd run`: everything on one Boost.Asio reactor, no thread, no lock. The event
// socket subscribes before the first dump, so no foreign commit is missed in between.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "daemon/config_watcher.hpp"
#include "daemon/instance_lock.hpp"
#include "daemon/nft_event_source.hpp"
#include "daemon/options.hpp"
#include "daemon/reconciler.hpp"
#include "daemon/systemd_notify.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nftables_backend.hpp"

namespace fnft::daemon {

struct RunOptions {
  ConfigOptions config;
  std::chrono::seconds resync_period{300};
  Reconciler::Options reconciler;
};

class NodeDaemon {
 public:
  NodeDaemon(boost::asio::io_context& io, RunOptions options);

  void start();

 private:
  void reload(const std::string& why);
  void arm_resync();
  void wait_for_signal();
  void reconciled(bool committed);
  // What the daemon has done so far, for STATUS= and the log.
  std::string activity() const;

  boost::asio::io_context& io_;
  RunOptions options_;
  // First: nothing is touched before we know we are the namespace's only daemon.
  InstanceLock instance_lock_;
  netlink::NfnlSocket command_socket_;
  netlink::NftablesBackend backend_;
  NftEventSource events_;
  Reconciler reconciler_;
  ConfigWatcher watcher_;
  SystemdNotifier notifier_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer resync_timer_;
  std::optional<state::NodeConfig> config_;  // the last valid configuration
  bool ready_ = false;
};

}  // namespace fnft::daemon
