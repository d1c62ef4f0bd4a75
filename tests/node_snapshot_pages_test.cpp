// The status document and the /metrics page are pure functions of a NodeSnapshot: what each
// shows of every part of it, without a daemon.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/observe/metrics_page.hpp"
#include "daemon/observe/status_document.hpp"
#include "daemon/observe/status_format.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::daemon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

state::NodeConfig dual_stack() {
  state::NodeConfig config;
  config.ipv4 = state::FamilyNetworks{*state::parse_cidr("10.244.0.0/16"),
                                      *state::parse_cidr("10.244.1.0/24")};
  config.ipv6 = state::FamilyNetworks{*state::parse_cidr("fd00:10:244::/56"),
                                      *state::parse_cidr("fd00:10:244:1::/64")};
  return config;
}

// A daemon that has applied its rules, repaired one deletion and runs the fast path.
NodeSnapshot running_node() {
  NodeSnapshot snapshot;
  snapshot.pid = 4242;
  snapshot.started = std::chrono::system_clock::from_time_t(1'796'000'000);
  snapshot.health.in_sync = true;
  snapshot.health.has_config = true;
  snapshot.health.ready = true;
  snapshot.in_sync_since = snapshot.started + 1s;
  snapshot.mode = "nftables";
  snapshot.config = dual_stack();
  snapshot.subnet_file = "/run/flannel/subnet.env";
  snapshot.net_config_path = "/etc/kube-flannel/net-conf.json";
  snapshot.stats.repairs = 1;
  snapshot.stats.foreign_transactions = 1;
  snapshot.stats.unrelated_transactions = 7;
  snapshot.metrics.repairs[{"ipv4", "rule"}] = 1;
  snapshot.metrics.foreign_commits["nft"] = 1;
  snapshot.metrics.repair_latency.observe(0.000312);
  snapshot.metrics.last_success = snapshot.started + 2s;
  snapshot.recent_repairs.push_back(
      {snapshot.started + 2s, "nft (pid 42): delrule ip flannel-nftd-ipv4 postrtg", 1, 312});
  snapshot.connections_reset["ipv4"] = 3;
  snapshot.table_protection = "on";
  snapshot.flowtables = "yes";
  snapshot.flowtable_counter = true;
  snapshot.fast_path_devices = std::vector<std::string>{"cni0", "flannel.1"};
  return snapshot;
}

TEST(StatusDocument, ShowsEveryPartOfTheSnapshotAndTheCounters) {
  state::RuleCounters counters;
  counters.rules.push_back({"ip flannel-nftd-ipv4", "postrtg", "flanneld masq", 12, 3400});
  const auto doc = parse_status_document(status_document(running_node(), &counters));
  EXPECT_EQ(doc["pid"], 4242);
  EXPECT_EQ(doc["mode"], "nftables");
  EXPECT_EQ(doc["in_sync"], true);
  EXPECT_EQ(doc["config"]["ipv4"]["lease"], "10.244.1.0/24");
  EXPECT_EQ(doc["config"]["ipv6"]["network"], "fd00:10:244::/56");
  EXPECT_EQ(doc["config"]["subnet_file"], "/run/flannel/subnet.env");
  EXPECT_EQ(doc["repairs"], 1);
  EXPECT_EQ(doc["unrelated_commits"], 7);
  EXPECT_EQ(doc["connections_reset"]["ipv4"], 3);
  EXPECT_EQ(doc["recent_repairs"][0]["micros"], 312);
  EXPECT_EQ(doc["kernel"]["table_protection"], "on");
  EXPECT_EQ(doc["kernel"]["flowtable_counter"], true);
  EXPECT_EQ(doc["fast_path"]["devices"][1], "flannel.1");
  EXPECT_EQ(doc["rules"][0]["packets"], 12);
  EXPECT_FALSE(doc.contains("rules_error"));
  EXPECT_FALSE(doc.contains("last_error"));
  EXPECT_TRUE(status_is_current(doc));
  EXPECT_THAT(format_status(doc), HasSubstr("flanneld masq"));
  EXPECT_THAT(format_status(doc), HasSubstr("connections that missed masquerade, reset: ipv4 3"));
}

TEST(StatusDocument, BeforeAConfigurationItHasNoRulesAndSaysWhy) {
  NodeSnapshot waiting;
  waiting.health.config_error = "/run/flannel/subnet.env: no such file";
  waiting.flowtables = "not asked (--flowtable=off)";
  const auto doc = parse_status_document(status_document(waiting, nullptr));
  EXPECT_EQ(doc["mode"], "");
  EXPECT_FALSE(doc.contains("config"));
  EXPECT_FALSE(doc.contains("rules"));
  EXPECT_FALSE(doc.contains("fast_path"));
  EXPECT_FALSE(doc["kernel"].contains("flowtable_counter"));
  EXPECT_EQ(doc["config_error"], "/run/flannel/subnet.env: no such file");
  EXPECT_FALSE(status_is_current(doc));
}

TEST(StatusDocument, CountersThatCouldNotBeReadAreNamedAndAFailureIsTheLastError) {
  NodeSnapshot failing = running_node();
  failing.health.in_sync = false;
  failing.health.failing = "commit: Operation not permitted";
  state::RuleCounters counters;
  counters.error = "iptables-nft-save -c: exit 4";
  const auto doc = parse_status_document(status_document(failing, &counters));
  EXPECT_EQ(doc["last_error"], "commit: Operation not permitted");
  EXPECT_EQ(doc["rules_error"], "iptables-nft-save -c: exit 4");
  EXPECT_TRUE(doc["rules"].empty());
}

TEST(StatusDocument, BytesThatAreNotUtf8StayPrintable) {
  NodeSnapshot odd = running_node();
  odd.subnet_file = "/run/fl\xffnnel/subnet.env";
  const auto doc = parse_status_document(status_document(odd, nullptr));
  EXPECT_EQ(doc["config"]["subnet_file"], "/run/fl\xef\xbf\xbdnnel/subnet.env");
}

state::Ruleset kernel_tables() {
  state::Target target{dual_stack(), state::FastPath{{"cni0", "flannel.1"}, true}, true};
  state::Ruleset tables = state::desired_nft_ruleset(target);
  std::uint64_t handle = 1;
  for (auto& table : tables.tables) {
    for (auto& chain : table.chains) {
      for (auto& rule : chain.rules) {
        rule.handle = handle++;
        rule.packets = 10 * rule.handle;
        rule.bytes = 1000 * rule.handle;
      }
    }
  }
  return tables;
}

TEST(MetricsPage, ExportsTheReconcilerAndTheDaemon) {
  const std::string page = metrics_page(running_node(), nullptr);
  EXPECT_THAT(page,
              HasSubstr("flannel_nftd_repairs_total{ip_family=\"ipv4\",object=\"rule\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_foreign_commits_total{process=\"nft\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_unrelated_commits_total 7\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_repair_latency_seconds_count 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_in_sync 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_connections_reset_total{ip_family=\"ipv4\"} 3\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_repair_war 0\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_mode{mode=\"nftables\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_last_successful_sync_timestamp_seconds 1796000002\n"));
  // Without tables read, their families are left out.
  EXPECT_THAT(page, Not(HasSubstr("flannel_nftd_rules{")));
  EXPECT_THAT(page, Not(HasSubstr("flannel_nftd_flowtable_devices{")));
}

TEST(MetricsPage, ExportsEachChainsRulesAndEachCountedRule) {
  const state::Ruleset tables = kernel_tables();
  const std::string page = metrics_page(running_node(), &tables);
  int counted = 0;
  for (const auto& table : tables.tables) {
    const std::string family(state::family_label(table.family));
    for (const auto& chain : table.chains) {
      EXPECT_THAT(page, HasSubstr("flannel_nftd_rules{ip_family=\"" + family + "\",table=\"" +
                                  table.name + "\",chain=\"" + chain.name + "\"} " +
                                  std::to_string(chain.rules.size()) + "\n"));
      for (const auto& rule : chain.rules) {
        if (!rule.counter) continue;
        ++counted;
        const std::string labels = "{ip_family=\"" + family + "\",chain=\"" + chain.name +
                                   "\",rule=\"" + rule.comment + "\"} ";
        EXPECT_THAT(page, HasSubstr("flannel_nftd_rule_packets_total" + labels +
                                    std::to_string(rule.packets) + "\n"));
        EXPECT_THAT(page, HasSubstr("flannel_nftd_rule_bytes_total" + labels +
                                    std::to_string(rule.bytes) + "\n"));
      }
    }
  }
  EXPECT_GT(counted, 4);  // every rule of ours has a counter
}

TEST(MetricsPage, CountsTheDevicesTheFlowtableLacks) {
  state::Ruleset tables = kernel_tables();
  NodeSnapshot snapshot = running_node();
  snapshot.fast_path_devices = std::vector<std::string>{"cni0", "flannel.1", "veth1"};
  for (auto& table : tables.tables) {
    if (table.family == state::Family::ipv6) table.flowtables.clear();
  }
  const std::string page = metrics_page(snapshot, &tables);
  EXPECT_THAT(page, HasSubstr("flannel_nftd_flowtable_devices{ip_family=\"ipv4\"} 2\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_flowtable_missing_devices{ip_family=\"ipv4\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_flowtable_devices{ip_family=\"ipv6\"} 0\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_flowtable_missing_devices{ip_family=\"ipv6\"} 3\n"));
}

TEST(MetricsPage, ARepairWarAndAnUnsyncedNodeShowAsGauges) {
  NodeSnapshot war = running_node();
  war.health.in_sync = false;
  war.health.backing_off = true;
  war.mode.clear();
  war.warnings = {"flanneld --ip-masq is on"};
  const std::string page = metrics_page(war, nullptr);
  EXPECT_THAT(page, HasSubstr("flannel_nftd_in_sync 0\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_repair_war 1\n"));
  EXPECT_THAT(page, HasSubstr("flannel_nftd_warnings 1\n"));
  EXPECT_THAT(page, Not(HasSubstr("flannel_nftd_mode{")));
}

}  // namespace
}  // namespace fnft::daemon
