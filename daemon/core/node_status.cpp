// NodeDaemon::status_document: what `flannel-nftd status` shows, read from the daemon's own
// state on the reactor (nothing here asks the kernel).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "daemon/core/node_daemon.hpp"
#include "daemon/observe/status_format.hpp"
#include "state/one_line.hpp"

namespace fnft::daemon {
namespace {

nlohmann::json family_json(const state::FamilyNetworks& networks) {
  return {{"network", networks.cluster.to_string()}, {"lease", networks.lease.to_string()}};
}

// Kernel and peer text is made valid where it enters; what is left (a path from the command
// line) must not make the document unprintable, so bytes that are not UTF-8 become U+FFFD.
std::string document_text(const nlohmann::json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void NodeDaemon::status_document(ControlServer::Reply reply) {
  nlohmann::json doc;
  doc["pid"] = ::getpid();
  doc["started"] = iso_time(started_at_);
  doc["ready"] = ready_;
  const auto since = reconciler_.in_sync_since();
  doc["in_sync"] = in_sync();
  if (since) doc["in_sync_since"] = iso_time(*since);
  doc["mode"] = active_ != nullptr ? std::string(to_string(active_->kind())) : "";
  if (config_) {
    nlohmann::json config;
    if (config_->ipv4) config["ipv4"] = family_json(*config_->ipv4);
    if (config_->ipv6) config["ipv6"] = family_json(*config_->ipv6);
    config["ip_masq"] = config_->options.ip_masq;
    config["forward_rules"] = config_->options.forward_rules;
    config["masquerade_fully_random"] = config_->options.masq_fully_random;
    config["subnet_file"] = options_.config.subnet_file;
    config["net_config_path"] = options_.config.net_config_path;
    doc["config"] = std::move(config);
  }
  const auto& stats = reconciler_.stats();
  doc["repairs"] = stats.repairs;
  doc["foreign_commits"] = stats.foreign_transactions;
  doc["unrelated_commits"] = stats.unrelated_transactions;
  doc["failed_applies"] = stats.failures;
  if (const auto& failing = reconciler_.failing()) doc["last_error"] = *failing;
  doc["repair_war"] = {{"active", reconciler_.backing_off()},
                       {"backoff_ms", reconciler_.current_backoff().count()},
                       {"delayed_repairs", reconciler_.throttled()}};
  doc["event_overruns"] = events_.overruns();
  doc["foreign_datagrams_dropped"] = events_.foreign_datagrams();
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& repair : reconciler_.recent_repairs()) {
    recent.push_back({{"at", iso_time(repair.at)},
                      {"cause", repair.cause},
                      {"changes", repair.changes},
                      {"micros", repair.micros}});
  }
  doc["recent_repairs"] = std::move(recent);
  nlohmann::json features;
  features["table_protection"] = protection_;
  if (flowtable_support_) {
    features["flowtables"] = flowtable_support_->available()
                                 ? std::string("yes")
                                 : "no (" + flowtable_support_->unavailable + ")";
    features["flowtable_counter"] = flowtable_support_->counter;
  } else {
    features["flowtables"] = "not asked (--flowtable=off)";
  }
  doc["kernel"] = std::move(features);
  if (fast_path_.running()) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : fast_path_.devices()) devices.push_back(state::one_line(device));
    doc["fast_path"] = {{"devices", std::move(devices)}};
  }
  doc["warnings"] = warnings();
  if (config_error_) doc["config_error"] = *config_error_;
  // Rules and their counters as the kernel holds them.
  if (active_ != nullptr && config_) {
    active_->read_counters(target(), [doc = std::move(doc), reply](RuleCounters counters) mutable {
      nlohmann::json rules = nlohmann::json::array();
      for (const auto& rule : counters.rules) {
        rules.push_back({{"table", rule.table},
                         {"chain", rule.chain},
                         {"comment", rule.comment},
                         {"packets", rule.packets},
                         {"bytes", rule.bytes}});
      }
      doc["rules"] = std::move(rules);
      if (counters.error) doc["rules_error"] = std::move(*counters.error);
      reply(document_text(doc));
    });
    return;
  }
  reply(document_text(doc));
}

}  // namespace fnft::daemon
