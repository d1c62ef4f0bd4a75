#include "daemon/node_daemon.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

#include "daemon/config_files.hpp"
#include "daemon/iptables_mode_cleanup.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::daemon {
namespace {

std::string describe_config(const state::NodeConfig& config) {
  std::string text;
  if (config.ipv4)
    text += "IPv4 network " + config.ipv4->cluster.to_string() + " lease " +
            config.ipv4->lease.to_string();
  if (config.ipv6) {
    if (!text.empty()) text += ", ";
    text += "IPv6 network " + config.ipv6->cluster.to_string() + " lease " +
            config.ipv6->lease.to_string();
  }
  return text;
}

}  // namespace

NodeDaemon::NodeDaemon(boost::asio::io_context& io, RunOptions options)
    : io_(io),
      options_(std::move(options)),
      instance_lock_(io),
      backend_(command_socket_),
      events_(io, backend_.owned_tables(),
              {[this](std::vector<netlink::NftTransaction> transactions) {
                 reconciler_.transactions(transactions);
               },
               [this](const std::string& why) { reconciler_.resync(why); }}),
      reconciler_(io, backend_, command_socket_.portid(), options_.reconciler),
      watcher_(io, {options_.config.subnet_file, options_.config.net_config_path},
               [this] { reload("a config file changed"); }),
      notifier_(io),
      signals_(io, SIGHUP, SIGTERM, SIGINT),
      resync_timer_(io) {
  // SIGUSR1 would end the process; here it asks for the status line.
  signals_.add(SIGUSR1);
  reconciler_.on_reconciled([this](bool committed) { reconciled(committed); });
}

void NodeDaemon::start() {
  // Step 1 of the repair loop (docs/design.md): the iptables mode's rules would masquerade the same
  // packets a second time, so they go before ours are applied. Child processes, run before the
  // reactor starts, so nothing waits on them later.
  const IptablesModeCleanup iptables = clean_iptables_mode();
  for (const auto& line : iptables.removed) spdlog::info("removed the iptables mode's {}", line);
  for (const auto& problem : iptables.problems) {
    spdlog::warn(
        "could not remove the iptables mode's rules: {}; run `flannel-nftd cleanup "
        "--mode=iptables` as root once",
        problem);
  }
  events_.start();
  watcher_.start();
  wait_for_signal();
  notifier_.start_watchdog();
  reload("start");
  arm_resync();
}

void NodeDaemon::reload(const std::string& why) {
  LoadedConfig loaded;
  try {
    loaded = load_config(options_.config);
  } catch (const state::ConfigError& error) {
    if (config_) {
      spdlog::error("{} ({}); keeping the rules in place", error.what(), why);
    } else {
      spdlog::warn("waiting for a valid configuration: {}", error.what());
      notifier_.status(std::string("waiting: ") + error.what());
    }
    return;
  }
  if (loaded.mode != state::Mode::nftables) {
    const std::string why_iptables =
        loaded.net_conf
            ? options_.config.net_config_path + " does not set \"EnableNFTables\": true"
            : options_.config.net_config_path + " is absent, so the mode defaults to iptables";
    spdlog::error(
        "{}: `run` supports the nftables mode only so far; pass --mode=nftables or set "
        "\"EnableNFTables\": true{}",
        why_iptables, config_ ? "; keeping the rules in place" : "");
    return;
  }
  if (config_ == loaded.node) {
    spdlog::debug("{}: configuration unchanged", why);
    return;
  }
  spdlog::info("{}: {}", config_ ? "configuration changed" : "configuration",
               describe_config(loaded.node));
  config_ = loaded.node;
  reconciler_.set_desired(state::desired_nft_ruleset(loaded.node));
}

void NodeDaemon::arm_resync() {
  resync_timer_.expires_after(options_.resync_period);
  resync_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    reconciler_.resync("periodic safety resync");
    arm_resync();
  });
}

void NodeDaemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    if (signal == SIGUSR1) {
      spdlog::info("SIGUSR1: {}", activity());
      wait_for_signal();
      return;
    }
    if (signal == SIGHUP) {
      spdlog::info("SIGHUP: reloading the configuration and re-reading the kernel's tables ({})",
                   activity());
      reload("SIGHUP");
      reconciler_.resync("SIGHUP");
      wait_for_signal();
      return;
    }
    spdlog::info("{}: exiting; the rules stay in place so pods keep their traffic ({})",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT", activity());
    notifier_.stopping();
    io_.stop();
  });
}

void NodeDaemon::reconciled(bool committed) {
  if (!ready_) {
    // READY=1 promises the rules are in place: read them back once before saying so. A
    // mismatch means someone changed them meanwhile; their commit's event brings us back.
    if (!reconciler_.kernel_matches_desired()) return;
    ready_ = true;
    spdlog::info("flannel tables in place; watching for changes");
    notifier_.ready("flannel tables in place");
    return;
  }
  if (committed) notifier_.status("flannel tables in place; " + activity());
}

std::string NodeDaemon::activity() const {
  const auto& stats = reconciler_.stats();
  std::string text = std::to_string(stats.repairs) + " repair(s)";
  if (reconciler_.throttled() != 0)
    text += " (" + std::to_string(reconciler_.throttled()) + " delayed by a repair war)";
  text += ", " + std::to_string(stats.foreign_transactions) + " foreign commit(s) to our tables, " +
          std::to_string(stats.unrelated_transactions) + " to other tables";
  if (events_.overruns() != 0)
    text += ", " + std::to_string(events_.overruns()) + " event overrun(s)";
  if (events_.foreign_datagrams() != 0)
    text += ", " + std::to_string(events_.foreign_datagrams()) +
            " datagram(s) from other processes dropped";
  if (stats.failures != 0) text += ", " + std::to_string(stats.failures) + " failed apply(s)";
  return text;
}

}  // namespace fnft::daemon
