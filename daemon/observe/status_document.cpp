#include "daemon/observe/status_document.hpp"

#include <nlohmann/json.hpp>

#include "daemon/observe/status_format.hpp"
#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

nlohmann::json family_json(const state::FamilyNetworks& networks) {
  return {{"network", networks.cluster.to_string()}, {"lease", networks.lease.to_string()}};
}

nlohmann::json config_json(const NodeSnapshot& snapshot) {
  const state::NodeConfig& config = *snapshot.config;
  nlohmann::json json;
  if (config.ipv4) json["ipv4"] = family_json(*config.ipv4);
  if (config.ipv6) json["ipv6"] = family_json(*config.ipv6);
  json["ip_masq"] = config.options.ip_masq;
  json["forward_rules"] = config.options.forward_rules;
  json["masquerade_fully_random"] = config.options.masq_fully_random;
  json["subnet_file"] = snapshot.subnet_file;
  json["net_config_path"] = snapshot.net_config_path;
  return json;
}

nlohmann::json rules_json(const state::RuleCounters& counters) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& rule : counters.rules) {
    rules.push_back({{"table", rule.table},
                     {"chain", rule.chain},
                     {"comment", rule.comment},
                     {"packets", rule.packets},
                     {"bytes", rule.bytes}});
  }
  return rules;
}

}  // namespace

std::string status_document(const NodeSnapshot& snapshot, const state::RuleCounters* counters) {
  nlohmann::json doc;
  doc["pid"] = snapshot.pid;
  doc["started"] = iso_time(snapshot.started);
  doc["ready"] = snapshot.health.ready;
  doc["in_sync"] = snapshot.health.in_sync;
  if (snapshot.in_sync_since) doc["in_sync_since"] = iso_time(*snapshot.in_sync_since);
  doc["mode"] = snapshot.mode;
  if (snapshot.config) doc["config"] = config_json(snapshot);
  doc["repairs"] = snapshot.stats.repairs;
  doc["foreign_commits"] = snapshot.stats.foreign_transactions;
  doc["unrelated_commits"] = snapshot.stats.unrelated_transactions;
  doc["failed_applies"] = snapshot.stats.failures;
  if (snapshot.health.failing) doc["last_error"] = *snapshot.health.failing;
  doc["repair_war"] = {{"active", snapshot.health.backing_off},
                       {"backoff_ms", snapshot.repair_backoff.count()},
                       {"delayed_repairs", snapshot.delayed_repairs}};
  doc["event_overruns"] = snapshot.event_overruns;
  doc["foreign_datagrams_dropped"] = snapshot.foreign_datagrams_dropped;
  doc["connections_reset"] = nlohmann::json::object();
  for (const auto& [family, count] : snapshot.connections_reset)
    doc["connections_reset"][family] = count;
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& repair : snapshot.recent_repairs) {
    recent.push_back({{"at", iso_time(repair.at)},
                      {"cause", repair.cause},
                      {"changes", repair.changes},
                      {"micros", repair.micros}});
  }
  doc["recent_repairs"] = std::move(recent);
  nlohmann::json kernel;
  kernel["table_protection"] = snapshot.table_protection;
  kernel["flowtables"] = snapshot.flowtables;
  if (snapshot.flowtable_counter) kernel["flowtable_counter"] = *snapshot.flowtable_counter;
  doc["kernel"] = std::move(kernel);
  if (snapshot.fast_path_devices) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : *snapshot.fast_path_devices)
      devices.push_back(state::one_line(device));
    doc["fast_path"] = {{"devices", std::move(devices)}};
  }
  doc["warnings"] = snapshot.warnings;
  if (snapshot.health.config_error) doc["config_error"] = *snapshot.health.config_error;
  if (counters != nullptr) {
    doc["rules"] = rules_json(*counters);
    if (counters->error) doc["rules_error"] = *counters->error;
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace fnft::daemon
