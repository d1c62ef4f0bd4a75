#include "daemon/core/node_daemon.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

#include "daemon/backends/backend_choice.hpp"
#include "netlink/netlink_error.hpp"
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
      backends_(io, command_socket_, options_.iptables_resync),
      events_(io, {[this](std::vector<netlink::NftTransaction> transactions) {
                     note_flanneld_commands(transactions);
                     reconciler_.transactions(transactions);
                   },
                   [this](const std::string& why) {
                     clean_others_pending_ = true;  // flanneld's tables' events were lost too
                     survey_cni_masquerade_soon();
                     reconciler_.resync(why);
                   },
                   [this](std::vector<netlink::NftTransaction> transactions) {
                     neighbour_transactions(transactions);
                   }}),
      reconciler_(
          io,
          [this](const netlink::NftTransaction& transaction) {
            return backends_.is_own(transaction);
          },
          options_.reconciler),
      fast_path_(io, {options_.fast_path.cni_bridge},
                 [this](const std::vector<std::string>&, const std::string& change) {
                   fast_path_devices_changed(change);
                 }),
      watcher_(io, {options_.config.subnet_file, options_.config.net_config_path},
               [this] { reload("a config file changed"); }),
      notifier_(io),
      signals_(io, SIGHUP, SIGTERM, SIGINT),
      resync_timer_(io),
      poll_timer_(io),
      cni_survey_timer_(io),
      config_retry_timer_(io),
      connection_resetter_(
          io, [this](const ConnectionResetter::Result& result) { connections_reset(result); }) {
  // SIGUSR1 would end the process; here it asks for the status line.
  signals_.add(SIGUSR1);
  reconciler_.on_reconciled([this](bool committed) { reconciled(committed); });
  reconciler_.after_commit([this](const std::string& reason, const BackendResult& commit) {
    if (commit.masquerade_changed) reset_missed_masquerade(reason);
  });
}

void NodeDaemon::start() {
  if (const auto& squatter = instance_lock_.squatter()) set_warnings("instance lock", {*squatter});
  probe_fast_path();
  probe_protection();
  if (exit_code_ != kExitOk) return;
  start_control_socket();
  start_http();
  events_.set_neighbours_watched(neighbour_tables());
  events_.start();
  watcher_.start();
  wait_for_signal();
  notifier_.start_watchdog();
  reload("start");
  arm_resync();
}

void NodeDaemon::reload(const std::string& why) {
  if (choosing_) {
    reload_again_ = why;
    return;
  }
  LoadedConfig loaded;
  try {
    loaded = load_config(options_.config);
  } catch (const ConfigReadError& error) {
    config_failed(error.what(), why);
    retry_config_read();
    return;
  } catch (const state::ConfigError& error) {
    config_failed(error.what(), why);
    return;
  }
  config_error_.reset();
  config_retry_timer_.cancel();
  config_retry_delay_ = kFirstConfigRetry;
  check_config_neighbours(loaded);
  // The iptables mode stays on the iptables its backend was chosen for: the rules we add
  // would otherwise count for the backend they are in at the next choice.
  const bool keep_iptables = loaded.mode == state::Mode::iptables && active_ != nullptr &&
                             active_->kind() != BackendKind::nftables &&
                             options_.config.iptables_backend == IptablesBackendOption::automatic;
  if (keep_iptables) {
    activate(*active_, loaded.mode_reason, loaded);
    return;
  }
  choosing_ = true;
  choose_backend(io_, loaded.mode, loaded.mode_reason, options_.config.iptables_backend,
                 [this, loaded, why](const ChosenBackend& chosen) {
                   choosing_ = false;
                   set_warnings("iptables backend", chosen.warnings);
                   activate(backends_.of(chosen.kind), chosen.reason, loaded);
                   if (reload_again_) reload(*std::exchange(reload_again_, std::nullopt));
                 });
}

void NodeDaemon::config_failed(const std::string& error, const std::string& why) {
  // A read retried every few seconds says so once, not at every attempt.
  const bool again = config_error_ == error && why == kConfigRetry;
  config_error_ = error;
  if (again) {
    spdlog::debug("{} (still)", error);
  } else if (config_) {
    spdlog::error("{} ({}); keeping the rules in place", error, why);
  } else {
    spdlog::warn("waiting for a valid configuration: {}", error);
    notifier_.status("waiting: " + error);
  }
}

void NodeDaemon::retry_config_read() {
  // Nothing may change in the directory once the read can succeed (the descriptors come
  // back, the I/O error passes): no inotify event would ever bring the change in.
  const auto delay = config_retry_delay_;
  config_retry_delay_ = std::min(config_retry_delay_ * 2, kLastConfigRetry);
  spdlog::log(delay == kFirstConfigRetry ? spdlog::level::info : spdlog::level::debug,
              "reading the configuration files again in {} s", delay.count() / 1000.0);
  config_retry_timer_.expires_after(delay);
  config_retry_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) reload(kConfigRetry);
  });
}

void NodeDaemon::activate(Backend& backend, const std::string& reason, const LoadedConfig& loaded) {
  const bool switched = active_ != &backend;
  if (switched) {
    spdlog::info("{} the {} mode ({})", active_ == nullptr ? "using" : "switching to",
                 to_string(backend.kind()), reason);
    active_ = &backend;
    events_.set_watched(backend.watched());
    clean_others_pending_ = true;
    arm_poll();
  } else if (config_ == loaded.node) {
    spdlog::debug("configuration unchanged");
    return;
  }
  spdlog::info("{}: {}", config_ && !switched ? "configuration changed" : "configuration",
               describe_config(loaded.node));
  config_ = loaded.node;
  if (switched) update_fast_path();
  if (exit_code_ != kExitOk) return;
  reconciler_.set_target(backend, target());
}

void NodeDaemon::update_fast_path() {
  const bool nftables_mode = active_ != nullptr && active_->kind() == BackendKind::nftables;
  // Where the kernel has none, that was said once already and is all there is to say.
  const bool kernel_has_them = flowtable_support_ && flowtable_support_->available();
  if (!kernel_has_them || !nftables_mode) {
    fast_path_.stop();
    if (kernel_has_them && active_ != nullptr) {
      const std::string message =
          "--flowtable: the fast path is an nftables flowtable and the " +
          std::string(to_string(active_->kind())) +
          " mode has none (set EnableNFTables in net-conf.json or --mode=nftables)";
      if (options_.fast_path.flowtable == FlowtableOption::required && !ready_) {
        fatal(message);
      } else if (!said_iptables_has_no_fast_path_) {
        spdlog::warn("{}; running without the fast path", message);
        said_iptables_has_no_fast_path_ = true;
      }
    }
    return;
  }
  if (fast_path_.running()) return;
  try {
    fast_path_.start();
  } catch (const netlink::NetlinkError& error) {
    if (options_.fast_path.flowtable == FlowtableOption::required) {
      fatal(std::string("--flowtable=required: ") + error.what());
    } else {
      spdlog::error("{}; running without the fast path", error.what());
    }
  }
}

void NodeDaemon::fast_path_devices_changed(const std::string& change) {
  spdlog::info("fast path: {} device(s) now: {}", fast_path_.devices().size(), change);
  if (active_ == nullptr || !config_) return;
  reconciler_.set_target(*active_, target(), "fast path devices changed");
}

state::Target NodeDaemon::target() const {
  state::Target target{*config_, std::nullopt, protect_};
  if (fast_path_.running()) {
    target.fast_path = state::FastPath{fast_path_.devices(), flowtable_support_->counter};
  }
  return target;
}

void NodeDaemon::fatal(const std::string& message) {
  spdlog::error("{}", message);
  exit_code_ = kExitFailure;
  notifier_.stopping();
  io_.stop();
}

void NodeDaemon::clean_other_modes() {
  backends_.clean_all_but(active_->kind(), *config_, report_removed, [] {});
  survey_cni_masquerade_soon();
}

void NodeDaemon::report_removed(const RemovedRules& rules, const BackendResult& result) {
  for (const auto& change : result.changes) {
    spdlog::info("removed {} rules: {}", rules.whose, change);
  }
  if (!result.error) return;
  if (rules.cleanup_mode.empty()) {
    spdlog::warn("could not remove {} rules: {}", rules.whose, *result.error);
  } else {
    spdlog::warn("could not remove {} rules: {}; run `flannel-nftd cleanup --mode={}` as root once",
                 rules.whose, *result.error, rules.cleanup_mode);
  }
}

void NodeDaemon::set_warnings(const std::string& topic, std::vector<std::string> warnings) {
  auto& listed = warnings_[topic];
  if (warnings == listed) return;
  for (const auto& warning : warnings) {
    if (std::find(listed.begin(), listed.end(), warning) == listed.end())
      spdlog::warn("{}", warning);
  }
  listed = std::move(warnings);
  if (listed.empty()) warnings_.erase(topic);
}

std::vector<std::string> NodeDaemon::warnings() const {
  std::vector<std::string> all;
  for (const auto& [topic, warnings] : warnings_)
    all.insert(all.end(), warnings.begin(), warnings.end());
  return all;
}

void NodeDaemon::arm_resync() {
  resync_timer_.expires_after(options_.resync_period);
  resync_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    reconciler_.resync("periodic safety resync");
    clean_others_pending_ = true;  // a restarted flanneld may have put its rules back
    arm_resync();
  });
}

void NodeDaemon::arm_poll() {
  poll_timer_.cancel();
  const auto period = active_ != nullptr ? active_->poll_period() : std::nullopt;
  if (!period) return;
  poll_timer_.expires_after(*period);
  poll_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    reconciler_.resync("iptables-legacy poll");
    arm_poll();
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
      spdlog::info("SIGHUP: reloading the configuration and re-reading the kernel's rules ({})",
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
  if (clean_others_pending_) {
    clean_others_pending_ = false;
    clean_other_modes();
  }
  if (!ready_) {
    // READY=1 promises the rules are in place: read them back once before saying so. A
    // mismatch means someone changed them meanwhile; their commit (or the next poll) brings
    // us back here.
    reconciler_.verify([this](bool matches) {
      if (!matches || ready_) return;
      ready_ = true;
      spdlog::info("flannel rules in place ({} mode); watching for changes",
                   to_string(active_->kind()));
      notifier_.ready("flannel rules in place; " + activity());
    });
    return;
  }
  if (committed) notifier_.status("flannel rules in place; " + activity());
}

std::string NodeDaemon::activity() const {
  const auto& stats = reconciler_.stats();
  std::string text = active_ != nullptr ? std::string(to_string(active_->kind())) + " mode, " : "";
  text += std::to_string(stats.repairs) + " repair(s)";
  if (reconciler_.throttled() != 0)
    text += " (" + std::to_string(reconciler_.throttled()) + " delayed by a repair war)";
  text += ", " + std::to_string(stats.foreign_transactions) + " foreign commit(s) to our rules, " +
          std::to_string(stats.unrelated_transactions) + " to others";
  if (events_.overruns() != 0)
    text += ", " + std::to_string(events_.overruns()) + " event overrun(s)";
  if (events_.foreign_datagrams() != 0)
    text += ", " + std::to_string(events_.foreign_datagrams()) +
            " datagram(s) from other processes dropped";
  if (stats.failures != 0) text += ", " + std::to_string(stats.failures) + " failed apply(s)";
  if (fast_path_.running()) {
    text += ", fast path on " + std::to_string(fast_path_.devices().size()) + " device(s)";
  } else if (options_.fast_path.flowtable != FlowtableOption::off) {
    text += ", no fast path";
  }
  if (protect_ && active_ != nullptr && active_->kind() == BackendKind::nftables)
    text += ", tables protected";
  if (const auto listed = warnings(); !listed.empty())
    text += ", " + std::to_string(listed.size()) + " warning(s)";
  return text;
}

}  // namespace fnft::daemon
