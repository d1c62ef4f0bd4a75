// NodeDaemon's HTTP answers: /metrics (Prometheus text), /healthz and /readyz.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <algorithm>

#include "daemon/core/node_daemon.hpp"
#include "daemon/observe/prometheus_text.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nft_table_sync.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::daemon {
namespace {

constexpr const char* kPrefix = "flannel_nftd_";

std::string metric(const char* name) {
  return std::string(kPrefix) + name;
}

// As the repair counters name them.
std::string ip_family(state::Family family) {
  return family == state::Family::ipv4 ? "ipv4" : "ipv6";
}

double seconds_since_epoch(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

}  // namespace

std::string NodeDaemon::metrics_text() {
  MetricsText out;
  const auto& stats = reconciler_.stats();
  const auto& metrics = reconciler_.metrics();

  out.family(metric("repairs_total"), "counter",
             "Commits that undid another process's change to our rules, by what it had touched.");
  for (const auto& [key, count] : metrics.repairs) {
    out.sample(metric("repairs_total"), {{"ip_family", key.first}, {"object", key.second}},
               static_cast<double>(count));
  }
  out.family(metric("foreign_commits_total"), "counter",
             "nf_tables commits by other processes that touched our rules, by process name.");
  for (const auto& [process, count] : metrics.foreign_commits) {
    out.sample(metric("foreign_commits_total"), {{"process", process}}, static_cast<double>(count));
  }
  out.family(metric("unrelated_commits_total"), "counter",
             "nf_tables commits that touched only other tables: decoded, nothing else.");
  out.sample(metric("unrelated_commits_total"), {},
             static_cast<double>(stats.unrelated_transactions));
  out.family(metric("repair_latency_seconds"), "histogram",
             "From receiving another process's commit to our repair commit acked.");
  out.histogram(metric("repair_latency_seconds"), {}, metrics.repair_latency);
  out.family(metric("sync_duration_seconds"), "histogram",
             "One apply (read, plan, commit), by what caused it: startup, config, event, resync.");
  for (const auto& [reason, histogram] : metrics.sync_seconds) {
    out.histogram(metric("sync_duration_seconds"), {{"reason", reason}}, histogram);
  }
  out.family(metric("sync_failures_total"), "counter", "Applies that failed (and were retried).");
  out.sample(metric("sync_failures_total"), {}, static_cast<double>(stats.failures));
  out.family(metric("event_overruns_total"), "counter",
             "Event socket overruns (ENOBUFS), each followed by a full resync.");
  out.sample(metric("event_overruns_total"), {}, static_cast<double>(events_.overruns()));
  out.family(metric("foreign_datagrams_dropped_total"), "counter",
             "Netlink datagrams not sent by the kernel, dropped unread.");
  out.sample(metric("foreign_datagrams_dropped_total"), {},
             static_cast<double>(events_.foreign_datagrams()));
  out.family(metric("last_successful_sync_timestamp_seconds"), "gauge",
             "When the last apply succeeded (Unix time).");
  out.sample(metric("last_successful_sync_timestamp_seconds"), {},
             metrics.last_success ? seconds_since_epoch(*metrics.last_success) : 0);
  out.family(metric("in_sync"), "gauge",
             "1 when the kernel holds exactly the desired rules as far as the events tell.");
  out.sample(metric("in_sync"), {}, in_sync() ? 1 : 0);
  out.family(metric("repair_war"), "gauge", "1 while repairs are being throttled (a repair war).");
  out.sample(metric("repair_war"), {}, reconciler_.backing_off() ? 1 : 0);
  out.family(metric("mode"), "gauge",
             "1 for the mode keeping the rules: nftables, iptables-nft or iptables-legacy.");
  if (active_ != nullptr)
    out.sample(metric("mode"), {{"mode", std::string(to_string(active_->kind()))}}, 1);
  out.family(metric("warnings"), "gauge",
             "Conditions that need an operator (e.g. flannel or kube-proxy chains in the other "
             "iptables); `flannel-nftd status` lists them.");
  out.sample(metric("warnings"), {}, static_cast<double>(warnings().size()));

  // Rules and counters as the kernel holds them (nftables mode).
  if (active_ != nullptr && active_->kind() == BackendKind::nftables) {
    try {
      const state::Ruleset& tables = scraped_tables();
      out.family(metric("rules"), "gauge",
                 "Rules in each of our chains, as the kernel holds them.");
      for (const auto& table : tables.tables) {
        for (const auto& chain : table.chains) {
          out.sample(metric("rules"),
                     {{"ip_family", ip_family(table.family)},
                      {"table", table.name},
                      {"chain", chain.name}},
                     static_cast<double>(chain.rules.size()));
        }
      }
      for (const char* unit : {"packets", "bytes"}) {
        const std::string name = metric("rule_") + unit + "_total";
        out.family(name, "counter",
                   std::string("The ") + unit + " each of our rules' counter has seen.");
        for (const auto& table : tables.tables) {
          for (const auto& chain : table.chains) {
            for (const auto& rule : chain.rules) {
              if (!rule.counter) continue;
              out.sample(
                  name,
                  {{"ip_family", ip_family(table.family)},
                   {"chain", chain.name},
                   {"rule", rule.comment.empty() ? std::to_string(rule.handle) : rule.comment}},
                  static_cast<double>(unit[0] == 'p' ? rule.packets : rule.bytes));
            }
          }
        }
      }
      if (fast_path_.running()) {
        const auto& wanted = fast_path_.devices();
        out.family(metric("flowtable_devices"), "gauge", "Devices our flowtable is bound to.");
        out.family(metric("flowtable_missing_devices"), "gauge",
                   "Devices the fast path wants that the kernel's flowtable lacks.");
        for (const auto& table : tables.tables) {
          const auto* flowtable = table.find_flowtable(state::kFlowtableName);
          const auto bound = flowtable != nullptr ? flowtable->devices : std::vector<std::string>{};
          const auto missing = std::count_if(wanted.begin(), wanted.end(), [&](const auto& name) {
            return std::find(bound.begin(), bound.end(), name) == bound.end();
          });
          out.sample(metric("flowtable_devices"), {{"ip_family", ip_family(table.family)}},
                     static_cast<double>(bound.size()));
          out.sample(metric("flowtable_missing_devices"), {{"ip_family", ip_family(table.family)}},
                     static_cast<double>(missing));
        }
      }
    } catch (const std::exception& error) {
      spdlog::debug("metrics: cannot read the tables: {}", error.what());
    }
  }
  return out.text();
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

bool NodeDaemon::in_sync() const {
  return ready_ && reconciler_.in_sync_since().has_value() && !reconciler_.failing();
}

HealthFacts NodeDaemon::health_facts() const {
  HealthFacts facts;
  facts.in_sync = in_sync();
  facts.has_config = config_.has_value();
  facts.ready = ready_;
  facts.out_of_sync_for = std::chrono::steady_clock::now() - reconciler_.out_of_sync_since();
  facts.out_of_sync_allowed = options_.health_out_of_sync;
  facts.failing = reconciler_.failing();
  facts.backing_off = reconciler_.backing_off();
  facts.config_error = config_error_;
  return facts;
}

HttpResponse NodeDaemon::http(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()};
  }
  if (path == "/healthz") return healthz(health_facts());
  if (path == "/readyz") return readyz(health_facts());
  return {404, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n"};
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
