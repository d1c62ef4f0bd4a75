// NodeDaemon::status_document: what `flannel-nftd status` shows, read from the daemon's own
// state on the reactor (nothing here asks the kernel).
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/backends/iptables_tools.hpp"
#include "daemon/core/node_daemon.hpp"
#include "daemon/observe/status_format.hpp"
#include "daemon/process/async_child.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nft_table_sync.hpp"
#include "state/iptables_save.hpp"
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
  // Rules and their counters as the kernel holds them (nftables mode: one dump of our tables).
  if (active_ != nullptr && active_->kind() == BackendKind::nftables) {
    nlohmann::json rules = nlohmann::json::array();
    try {
      const auto observed =
          netlink::dump_tables(command_socket_, netlink::NftTableSync::default_owned_tables());
      for (const auto& table : observed.ruleset.tables) {
        for (const auto& chain : table.chains) {
          for (const auto& rule : chain.rules) {
            rules.push_back({{"table", std::string(state::nft_family_name(table.family)) + " " +
                                           state::one_line(table.name)},
                             {"chain", state::one_line(chain.name)},
                             {"comment", state::one_line(rule.comment)},
                             {"packets", rule.packets},
                             {"bytes", rule.bytes}});
          }
        }
      }
      doc["rules"] = std::move(rules);
    } catch (const std::exception& error) {
      doc["rules_error"] = error.what();
    }
  } else if (active_ != nullptr) {
    iptables_counters([doc = std::move(doc), reply](nlohmann::json rules,
                                                    std::optional<std::string> error) mutable {
      doc["rules"] = std::move(rules);
      if (error) doc["rules_error"] = std::move(*error);
      reply(document_text(doc));
    });
    return;
  }
  reply(document_text(doc));
}

void NodeDaemon::iptables_counters(
    std::function<void(nlohmann::json, std::optional<std::string>)> done) {
  const auto backend = active_->kind() == BackendKind::iptables_legacy
                           ? state::IptablesBackend::legacy
                           : state::IptablesBackend::nft;
  std::vector<state::Family> families;
  if (config_ && config_->ipv4) families.push_back(state::Family::ipv4);
  if (config_ && config_->ipv6) families.push_back(state::Family::ipv6);
  struct Pending {
    nlohmann::json rules = nlohmann::json::array();
    std::optional<std::string> error;
    std::size_t left = 0;
    std::function<void(nlohmann::json, std::optional<std::string>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = families.size();
  pending->done = std::move(done);
  if (families.empty()) {
    pending->done(pending->rules, std::nullopt);
    return;
  }
  for (const auto family : families) {
    const IptablesTools tools = iptables_tools(backend, family);
    const std::string label = tools.save.substr(0, tools.save.size() - std::string("-save").size());
    const std::vector<std::string> argv = {tools.save, "-c"};
    const auto finished = [pending, label, argv](const ChildResult& saved) {
      if (!saved.ok()) {
        const std::string failure = saved.describe(argv);
        pending->error = pending->error ? *pending->error + "; " + failure : failure;
      }
      // "[packets:bytes] -A CHAIN ..." lines of our chains, in table order.
      std::string table;
      std::istringstream lines(saved.out);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind('*', 0) == 0) table = line.substr(1);
        if (line.rfind('[', 0) != 0) continue;
        const auto close = line.find("] ");
        const auto colon = line.find(':');
        if (close == std::string::npos || colon == std::string::npos || colon > close) continue;
        const auto words = state::rule_words(std::string_view(line).substr(close + 2));
        if (words.size() < 2 || words[1].rfind("FLANNEL-", 0) != 0) continue;
        std::string comment;
        for (std::size_t i = 0; i + 1 < words.size(); ++i) {
          if (words[i] == "--comment") comment = words[i + 1];
        }
        pending->rules.push_back({{"table", label + " " + state::one_line(table)},
                                  {"chain", state::one_line(words[1])},
                                  {"comment", state::one_line(comment)},
                                  {"packets", std::strtoull(line.c_str() + 1, nullptr, 10)},
                                  {"bytes", std::strtoull(line.c_str() + colon + 1, nullptr, 10)}});
      }
      if (--pending->left == 0) pending->done(std::move(pending->rules), std::move(pending->error));
    };
    try {
      // Within `status`'s own default timeout (10 s), so a hung tool still gets an answer.
      AsyncChild::start(io_, argv, {}, std::chrono::seconds(5), finished);
    } catch (const std::system_error& error) {
      ChildResult failed;
      failed.err = error.what();
      finished(failed);
    }
  }
}

}  // namespace fnft::daemon
