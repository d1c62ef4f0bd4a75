#include "daemon/observe/metrics_page.hpp"

#include <algorithm>

#include "state/desired_ruleset.hpp"

namespace fnft::daemon {
namespace {

constexpr const char* kPrefix = "flannel_nftd_";

std::string metric(const char* name) {
  return std::string(kPrefix) + name;
}

// As the repair counters name them.
std::string ip_family(state::Family family) {
  return std::string(state::family_label(family));
}

double seconds_since_epoch(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

void reconciler_families(MetricsText& out, const NodeSnapshot& snapshot) {
  const auto& stats = snapshot.stats;
  const auto& metrics = snapshot.metrics;
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
}

void daemon_families(MetricsText& out, const NodeSnapshot& snapshot) {
  out.family(metric("event_overruns_total"), "counter",
             "Event socket overruns (ENOBUFS), each followed by a full resync.");
  out.sample(metric("event_overruns_total"), {}, static_cast<double>(snapshot.event_overruns));
  out.family(metric("foreign_datagrams_dropped_total"), "counter",
             "Netlink datagrams not sent by the kernel, dropped unread.");
  out.sample(metric("foreign_datagrams_dropped_total"), {},
             static_cast<double>(snapshot.foreign_datagrams_dropped));
  out.family(metric("connections_reset_total"), "counter",
             "Conntrack entries deleted after a commit because they had met a window without "
             "masquerade (their next packet is masqueraded), by family.");
  for (const auto& [family, count] : snapshot.connections_reset) {
    out.sample(metric("connections_reset_total"), {{"ip_family", family}},
               static_cast<double>(count));
  }
  out.family(metric("last_successful_sync_timestamp_seconds"), "gauge",
             "When the last apply succeeded (Unix time).");
  const auto& last_success = snapshot.metrics.last_success;
  out.sample(metric("last_successful_sync_timestamp_seconds"), {},
             last_success ? seconds_since_epoch(*last_success) : 0);
  out.family(metric("in_sync"), "gauge",
             "1 when the kernel holds exactly the desired rules as far as the events tell.");
  out.sample(metric("in_sync"), {}, snapshot.health.in_sync ? 1 : 0);
  out.family(metric("repair_war"), "gauge", "1 while repairs are being throttled (a repair war).");
  out.sample(metric("repair_war"), {}, snapshot.health.backing_off ? 1 : 0);
  out.family(metric("mode"), "gauge",
             "1 for the mode keeping the rules: nftables, iptables-nft or iptables-legacy.");
  if (!snapshot.mode.empty()) out.sample(metric("mode"), {{"mode", snapshot.mode}}, 1);
  out.family(metric("warnings"), "gauge",
             "Conditions that need an operator (e.g. flannel or kube-proxy chains in the other "
             "iptables); `flannel-nftd status` lists them.");
  out.sample(metric("warnings"), {}, static_cast<double>(snapshot.warnings.size()));
}

void table_families(MetricsText& out, const state::Ruleset& tables) {
  out.family(metric("rules"), "gauge", "Rules in each of our chains, as the kernel holds them.");
  for (const auto& table : tables.tables) {
    for (const auto& chain : table.chains) {
      out.sample(
          metric("rules"),
          {{"ip_family", ip_family(table.family)}, {"table", table.name}, {"chain", chain.name}},
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
          out.sample(name,
                     {{"ip_family", ip_family(table.family)},
                      {"chain", chain.name},
                      {"rule", rule.comment.empty() ? std::to_string(rule.handle) : rule.comment}},
                     static_cast<double>(unit[0] == 'p' ? rule.packets : rule.bytes));
        }
      }
    }
  }
}

void flowtable_families(MetricsText& out, const state::Ruleset& tables,
                        const std::vector<std::string>& wanted) {
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

}  // namespace

std::string metrics_page(const NodeSnapshot& snapshot, const state::Ruleset* tables) {
  MetricsText out;
  reconciler_families(out, snapshot);
  daemon_families(out, snapshot);
  if (tables != nullptr) {
    table_families(out, *tables);
    if (snapshot.fast_path_devices) flowtable_families(out, *tables, *snapshot.fast_path_devices);
  }
  return out.text();
}

}  // namespace fnft::daemon
