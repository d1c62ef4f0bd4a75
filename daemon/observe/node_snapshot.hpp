// Everything the daemon shows of itself at one moment, as plain data: NodeDaemon::snapshot()
// fills it on the reactor, and pure functions turn it into the status document
// (status_document.hpp), the metrics page (metrics_page.hpp) and the health answers
// (health.hpp), so each of them is tested without a daemon.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/observe/health.hpp"
#include "daemon/observe/prometheus_text.hpp"
#include "state/config.hpp"

namespace fnft::daemon {

struct ReconcilerStats {
  std::uint64_t repairs = 0;                 // commits that undid someone else's change
  std::uint64_t foreign_transactions = 0;    // touched our rules
  std::uint64_t unrelated_transactions = 0;  // touched only other objects: decoded, nothing else
  std::uint64_t failures = 0;                // applies that failed (and were retried)
};

// What /metrics exports of the reconciler, beyond ReconcilerStats.
struct ReconcilerMetrics {
  // Repairs by (ip_family "ipv4"/"ipv6"/"all", object "rule"/"chain"/"table"/...): what the
  // commits they undid had touched.
  std::map<std::pair<std::string, std::string>, std::uint64_t> repairs;
  std::map<std::string, std::uint64_t> foreign_commits;  // by committing process name
  // From receiving a foreign commit's NEWGEN to our repair commit acked.
  Histogram repair_latency{latency_buckets()};
  // Every apply, by reason: startup, config, event, resync.
  std::map<std::string, Histogram> sync_seconds;
  std::optional<std::chrono::system_clock::time_point> last_success;
};

// One repair, as `status` shows it.
struct RepairRecord {
  std::chrono::system_clock::time_point at;
  std::string cause;  // "nft (pid 42): delrule ip flannel-nftd-ipv4 postrtg"
  std::size_t changes = 0;
  std::int64_t micros = 0;  // from the trigger to the acked commit
};

struct NodeSnapshot {
  int pid = 0;
  std::chrono::system_clock::time_point started;
  // The facts /healthz and /readyz judge by; `status` and /metrics show them too.
  HealthFacts health;
  std::optional<std::chrono::system_clock::time_point> in_sync_since;
  std::string mode;  // "nftables", "iptables-nft", "iptables-legacy"; "" before a configuration
  std::optional<state::NodeConfig> config;  // the last valid configuration
  std::string subnet_file;
  std::string net_config_path;
  ReconcilerStats stats;
  ReconcilerMetrics metrics;
  std::vector<RepairRecord> recent_repairs;  // oldest first
  std::chrono::milliseconds repair_backoff{};
  std::uint64_t delayed_repairs = 0;
  std::uint64_t event_overruns = 0;
  std::uint64_t foreign_datagrams_dropped = 0;
  // Conntrack entries deleted because they had met a window without masquerade, by
  // "ipv4"/"ipv6".
  std::map<std::string, std::uint64_t> connections_reset;
  std::string table_protection;           // "on (flags owner, persist)", "off (--protect=off)", ...
  std::string flowtables;                 // "yes", "no (<the kernel's answer>)", "not asked (...)"
  std::optional<bool> flowtable_counter;  // when the kernel was asked
  // The devices the fast path wants, while it runs.
  std::optional<std::vector<std::string>> fast_path_devices;
  std::vector<std::string> warnings;
};

}  // namespace fnft::daemon
