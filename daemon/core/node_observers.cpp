// NodeDaemon's observers: the control socket (`flannel-nftd status`) and HTTP (/metrics,
// /healthz, /readyz) are answered from one snapshot of the daemon, built here on the reactor;
// what each answer says is daemon/observe/'s pure functions of it.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>

#include "daemon/core/node_daemon.hpp"
#include "daemon/observe/metrics_page.hpp"
#include "daemon/observe/status_document.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nft_table_sync.hpp"

namespace fnft::daemon {

bool NodeDaemon::in_sync() const {
  return ready_ && reconciler_.in_sync_since().has_value() && !reconciler_.failing();
}

NodeSnapshot NodeDaemon::snapshot() const {
  NodeSnapshot snapshot;
  snapshot.pid = ::getpid();
  snapshot.started = started_at_;
  snapshot.health.in_sync = in_sync();
  snapshot.health.has_config = config_.has_value();
  snapshot.health.ready = ready_;
  snapshot.health.out_of_sync_for =
      std::chrono::steady_clock::now() - reconciler_.out_of_sync_since();
  snapshot.health.out_of_sync_allowed = options_.health_out_of_sync;
  snapshot.health.failing = reconciler_.failing();
  snapshot.health.backing_off = reconciler_.backing_off();
  snapshot.health.config_error = config_error_;
  snapshot.in_sync_since = reconciler_.in_sync_since();
  if (active_ != nullptr) snapshot.mode = std::string(to_string(active_->kind()));
  snapshot.config = config_;
  snapshot.subnet_file = options_.config.subnet_file;
  snapshot.net_config_path = options_.config.net_config_path;
  snapshot.stats = reconciler_.stats();
  snapshot.metrics = reconciler_.metrics();
  const auto& recent = reconciler_.recent_repairs();
  snapshot.recent_repairs.assign(recent.begin(), recent.end());
  snapshot.repair_backoff = reconciler_.current_backoff();
  snapshot.delayed_repairs = reconciler_.throttled();
  snapshot.event_overruns = events_.overruns();
  snapshot.foreign_datagrams_dropped = events_.foreign_datagrams();
  for (const auto& [family, count] : connections_reset_)
    snapshot.connections_reset[std::string(state::family_label(family))] = count;
  snapshot.table_protection = protection_;
  if (flowtable_support_) {
    snapshot.flowtables = flowtable_support_->available()
                              ? std::string("yes")
                              : "no (" + flowtable_support_->unavailable + ")";
    snapshot.flowtable_counter = flowtable_support_->counter;
  } else {
    snapshot.flowtables = "not asked (--flowtable=off)";
  }
  if (fast_path_.running()) snapshot.fast_path_devices = fast_path_.devices();
  snapshot.warnings = warnings();
  return snapshot;
}

void NodeDaemon::answer_status(ControlServer::Reply reply) {
  if (active_ == nullptr || !config_) {
    reply(status_document(snapshot(), nullptr));
    return;
  }
  // The counters are read first (iptables-save runs off the reactor), the rest at the moment
  // of the answer.
  active_->read_counters(target(), [this, reply](state::RuleCounters counters) {
    reply(status_document(snapshot(), &counters));
  });
}

std::string NodeDaemon::metrics_text() {
  const state::Ruleset* tables = nullptr;
  if (active_ != nullptr && active_->kind() == BackendKind::nftables) {
    try {
      tables = &scraped_tables();
    } catch (const std::exception& error) {
      spdlog::debug("metrics: cannot read the tables: {}", error.what());
    }
  }
  return metrics_page(snapshot(), tables);
}

const state::Ruleset& NodeDaemon::scraped_tables() {
  const auto now = std::chrono::steady_clock::now();
  if (!scraped_at_ || now - *scraped_at_ >= kScrapedTablesMaxAge) {
    // A failed read counts too: scrapes until the next read show no tables rather than each
    // trying (a dump that fails has often been retried ten times already).
    scraped_at_ = now;
    scraped_tables_.reset();
    try {
      scraped_tables_ =
          netlink::dump_tables(command_socket_, netlink::NftTableSync::default_owned_tables())
              .ruleset;
      scraped_error_.clear();
    } catch (const std::exception& error) {
      scraped_error_ = error.what();
    }
  }
  if (!scraped_tables_) throw std::runtime_error(scraped_error_ + " (read again in 1 s)");
  return *scraped_tables_;
}

HttpResponse NodeDaemon::http(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()};
  }
  if (path == "/healthz") return healthz(snapshot().health);
  if (path == "/readyz") return readyz(snapshot().health);
  return {404, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n"};
}

void NodeDaemon::start_control_socket() {
  if (options_.control_socket.empty() || options_.control_socket == "off") return;
  control_.emplace(io_, options_.control_socket,
                   [this](ControlServer::Reply reply) { answer_status(std::move(reply)); });
  try {
    control_->start();
  } catch (const std::exception& error) {
    // `status` is for people; the rules come first.
    spdlog::warn("control socket: {}; `flannel-nftd status` will not reach this daemon",
                 error.what());
    control_.reset();
  }
}

void NodeDaemon::start_http() {
  // Under systemd, flannel-nftd.socket listens (so the service itself needs no IP sockets:
  // RestrictAddressFamilies stays netlink and Unix) and passes its socket here.
  const int passed = sd_listen_fds(1);
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + std::max(passed, 0); ++fd) {
    if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) continue;
    http_.emplace(io_, [this](const std::string& target) { return http(target); });
    http_->adopt(fd);
    spdlog::info(
        "metrics and health on the socket systemd passed (flannel-nftd.socket): "
        "/metrics, /healthz, /readyz");
    return;
  }
  if (options_.metrics_address.empty() || options_.metrics_address == "off") return;
  http_.emplace(io_, [this](const std::string& target) { return http(target); });
  try {
    http_->start(parse_listen_address(options_.metrics_address));
    spdlog::info("metrics and health on http://{}/metrics, /healthz, /readyz",
                 options_.metrics_address);
  } catch (const std::exception& error) {
    spdlog::warn("metrics: {}; running without /metrics and health endpoints", error.what());
    http_.reset();
  }
}

}  // namespace fnft::daemon
