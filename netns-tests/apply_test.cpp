// `flannel-nftd apply` and `cleanup` against the real kernel: the kernel ends up holding
// exactly the desired ruleset, a second apply commits nothing, an upstream flanneld table
// is taken over in place without a packet lost, and cleanup leaves no flannel object.
#include <gmock/gmock.h>

#include <regex>
#include <sstream>

#include "netns-tests/netns_fixture.hpp"
#include "netns-tests/nft_listing.hpp"
#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kStreamPort = 5200;

RunResult apply(const FlannelNode& node) {
  return node.flannel_nftd("apply", {"--mode=nftables"});
}

// The node's ruleset next to what the kernel makes of `dump` in an empty namespace.
void expect_kernel_holds_dump(const FlannelNode& node) {
  EXPECT_EQ(normalized_listing(node.ruleset()), reference_listing(node.dump({"--mode=nftables"})))
      << "left: the node's `nft list ruleset`; right: `dump` loaded with `nft -f` elsewhere";
}

using ApplyTest = NetnsParamTest<Stack>;

TEST_P(ApplyTest, ApplyInstallsExactlyTheDumpedRuleset) {
  const FlannelNode& node = make_node(GetParam());
  const RunResult result = apply(node);
  ASSERT_TRUE(result.ok()) << result.describe() << node.rules_report();
  EXPECT_THAT(result.out, testing::ContainsRegex(R"(applied [0-9]+ change\(s\) \(generation)"))
      << result.describe();
  expect_kernel_holds_dump(node);
}

// The lines `nft monitor` printed after the line `from` and before the line `to`.
std::vector<std::string> lines_between(const std::string& text, const std::string& from,
                                       const std::string& to) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == to) break;
    if (inside) lines.push_back(line);
    if (line == from) inside = true;
  }
  return lines;
}

TEST_P(ApplyTest, ReapplyCommitsNothing) {
  const FlannelNode& node = make_node(GetParam());
  const RunResult first = apply(node);
  ASSERT_TRUE(first.ok()) << first.describe() << node.rules_report();

  // Two sentinel commits of our own bracket the second apply in the event stream, so "no
  // event" is not just "the monitor had not caught up yet".
  // `timeout`: nft monitor never exits by itself, and must not outlive a killed test.
  BackgroundProcess monitor = node.spawn_in(node.node(), {"timeout", "60", "nft", "monitor"});
  // Returns the sentinel table's name, or "" when the monitor never showed it. The first is
  // repeated until the monitor shows it, since the monitor may still be subscribing (a fresh
  // name each time, so an earlier attempt's events cannot pass for this one's); once it has
  // shown one, it misses nothing, so the second is committed once and waited for as long as
  // the test may take: a slow kernel is not a commit of the second apply's.
  auto commit_sentinel = [&](const std::string& base, int attempts,
                             std::chrono::milliseconds wait) -> std::string {
    for (int attempt = 0; attempt < attempts; ++attempt) {
      const std::string name = base + "-" + std::to_string(attempt);
      node.run_in_checked(node.node(), {"nft", "add", "table", "inet", name});
      if (monitor.wait_for_stdout("add table inet " + name + "\n", wait)) return name;
    }
    return "";
  };
  const std::string before = commit_sentinel("fnft-sentinel-before", 50, 100ms);
  ASSERT_FALSE(before.empty()) << monitor.describe();
  const RunResult second = apply(node);
  const std::string after = commit_sentinel("fnft-sentinel-after", 1, 50s);
  ASSERT_FALSE(after.empty()) << monitor.describe();
  const RunResult events = monitor.stop(SIGTERM);

  ASSERT_TRUE(second.ok()) << second.describe() << node.rules_report();
  EXPECT_THAT(second.out, HasSubstr("the kernel already holds the desired rules (generation"))
      << second.describe();
  // Between the sentinels only the first sentinel's own "# new generation ... (nft)" line.
  const auto between =
      lines_between(events.out, "add table inet " + before, "add table inet " + after);
  const std::regex sentinel_generation(R"(# new generation [0-9]+ by process [0-9]+ \(nft\))");
  for (const auto& line : between) {
    EXPECT_TRUE(std::regex_match(line, sentinel_generation))
        << "the second apply committed something: " << line << "\n"
        << events.describe() << second.describe();
  }
}

// The table flanneld's nftables mode creates with --ip-masq and --iptables-forward-rules
// (its comment, its exact-mark rule 1, its `saddr != $P` rule 4), for one family.
std::string flanneld_nftables_table(Family family) {
  const Addresses& a = addresses(family);
  return substitute(R"(table $F $T {
  comment "rules for $T"
  chain postrtg {
    type nat hook postrouting priority srcnat; policy accept;
    meta mark 0x4000 return
    $F saddr $P $F daddr $C return
    $F saddr $C $F daddr $P return
    $F saddr != $P $F daddr $C return
    $F saddr $C $F daddr != $M masquerade fully-random
    $F saddr != $C $F daddr $C masquerade fully-random
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    $F saddr $C accept
    $F daddr $C accept
  }
}
)",
                    {{"$F", a.nft_family},
                     {"$T", a.flanneld_table},
                     {"$P", a.lease},
                     {"$C", a.cluster},
                     {"$M", family == Family::ipv4 ? "224.0.0.0/4" : "ff00::/8"}});
}

int stream_replies(const std::string& progress) {
  int replies = 0;
  for (std::size_t at = progress.find("received "); at != std::string::npos;
       at = progress.find("received ", at + 1)) {
    replies = std::stoi(progress.substr(at + 9));
  }
  return replies;
}

void load_flanneld_nftables_tables(const FlannelNode& node) {
  for (const Family family : families(node.stack())) {
    node.run_in_checked(node.node(), {"nft", "-f", "-"}, flanneld_nftables_table(family));
  }
}

// flanneld's tables as flanneld's next start finds them: there, and without chains.
void expect_flanneld_tables_left_empty(const FlannelNode& node) {
  for (const Family family : families(node.stack())) {
    const Addresses& a = addresses(family);
    const RunResult listed =
        node.run_in(node.node(), {"nft", "list", "table", a.nft_family, a.flanneld_table});
    EXPECT_TRUE(listed.ok()) << listed.describe();
    EXPECT_THAT(listed.out, Not(HasSubstr("chain"))) << listed.describe();
  }
}

// A node moving from flanneld's own masquerade to ours: our tables are in before flanneld's
// chains go, so every new flow meets a masquerade (while both are there, the first NAT rule
// that matches binds the flow; the second nat chain then leaves it alone).
TEST_P(ApplyTest, TakesOverFlanneldsNftablesMasqueradeWithoutLosingPackets) {
  const FlannelNode& node = make_node(GetParam());
  load_flanneld_nftables_tables(node);

  // Pod-to-outside streams that masquerading carries, during the whole takeover. Each
  // datagram leaves from a fresh socket, so each is a new conntrack entry that meets the
  // postrouting chain: a moment without masquerade would lose that datagram's reply.
  std::vector<BackgroundProcess> echoes;
  std::vector<BackgroundProcess> streams;
  for (const Family family : families(GetParam())) {
    const Addresses& a = addresses(family);
    echoes.push_back(node.spawn_in(
        node.outside(),
        probe({"echo-udp", a.outside, std::to_string(kStreamPort), "--timeout", "60"})));
    ASSERT_TRUE(echoes.back().wait_for_stderr("ready", 5s)) << echoes.back().describe();
    streams.push_back(
        node.spawn_in(node.pod(0), probe({"udp-stream", a.outside, std::to_string(kStreamPort),
                                          "--interval-ms", "5", "--timeout", "60"})));
    ASSERT_TRUE(streams.back().wait_for_stderr("started", 5s))
        << "flanneld's table masquerades too, so the stream should flow before the takeover\n"
        << streams.back().describe() << node.rules_report();
  }

  const RunResult result = apply(node);
  ASSERT_TRUE(result.ok()) << result.describe() << node.rules_report();

  for (auto& stream : streams) {
    // Keep streaming well past the takeover before stopping.
    stream.read_available();
    const int at_apply = stream_replies(stream.err());
    EXPECT_TRUE(stream.wait_for(
        [&](const std::string&, const std::string& err) {
          return stream_replies(err) >= at_apply + 50;
        },
        10s))
        << stream.describe();
    const RunResult summary = stream.stop(SIGTERM);
    EXPECT_TRUE(summary.ok() && summary.out.find(" lost 0") != std::string::npos)
        << summary.describe() << result.describe() << node.rules_report();
  }
}

TEST_P(ApplyTest, TakeoverOfFlanneldsNftablesRulesLeavesOurRulesAndFlanneldsEmptyTables) {
  const FlannelNode& node = make_node(GetParam());
  load_flanneld_nftables_tables(node);
  const RunResult result = apply(node);
  ASSERT_TRUE(result.ok()) << result.describe() << node.rules_report();
  EXPECT_THAT(result.out, HasSubstr("removed flanneld's own nftables rules: delete chain "))
      << result.describe();
  expect_flanneld_tables_left_empty(node);
  // Without flanneld's empty tables, the kernel holds exactly the dump: its comment, its
  // exact-mark rule 1 and its `saddr != $P` rule 4 are nowhere.
  for (const Family family : families(node.stack())) {
    const Addresses& a = addresses(family);
    node.run_in_checked(node.node(), {"nft", "delete", "table", a.nft_family, a.flanneld_table});
  }
  expect_kernel_holds_dump(node);
}

TEST_P(ApplyTest, CleanupLeavesNoFlannelTableAndKeepsForeignOnes) {
  const FlannelNode& node = make_node(GetParam());
  const RunResult applied = apply(node);
  ASSERT_TRUE(applied.ok()) << applied.describe() << node.rules_report();
  node.run_in_checked(node.node(), {"nft", "add", "table", "ip", "kube-proxy"});

  const RunResult cleanup = node.flannel_nftd("cleanup", {"--mode=nftables"});
  ASSERT_TRUE(cleanup.ok()) << cleanup.describe() << node.rules_report();
  const RunResult tables = node.run_in_checked(node.node(), {"nft", "list", "tables"});
  EXPECT_THAT(tables.out, Not(HasSubstr("flannel"))) << node.rules_report();
  EXPECT_THAT(tables.out, HasSubstr("table ip kube-proxy")) << node.rules_report();
}

INSTANTIATE_TEST_SUITE_P(Stacks, ApplyTest, kAllStacks, stack_name);

using IptablesCleanupTest = NetnsParamTest<Stack>;

TEST_P(IptablesCleanupTest, CleanupLeavesNoFlannelChainAndKeepsForeignRules) {
  const FlannelNode& node = make_node(GetParam());
  for (const Family family : families(GetParam())) {
    const bool v4 = family == Family::ipv4;
    node.run_in_checked(node.node(),
                        {v4 ? "iptables-nft-restore" : "ip6tables-nft-restore", "--noflush"},
                        node.dump({"--mode=iptables", v4 ? "--family=ipv4" : "--family=ipv6"}));
    // Another component's rule in the same built-in chain, which cleanup must not touch.
    node.run_in_checked(
        node.node(), {v4 ? "iptables-nft" : "ip6tables-nft", "-t", "nat", "-A", "POSTROUTING", "-m",
                      "comment", "--comment", "kube-test", "-j", "RETURN"});
  }

  const RunResult cleanup = node.flannel_nftd("cleanup", {"--mode=iptables"});
  if (cleanup.exit_code == 2 && cleanup.err.find("nftables mode only") != std::string::npos) {
    GTEST_SKIP() << "flannel-nftd cannot clean up the iptables mode yet: " << cleanup.err;
  }
  ASSERT_TRUE(cleanup.ok()) << cleanup.describe() << node.rules_report(true);
  for (const Family family : families(GetParam())) {
    const RunResult save = node.run_in_checked(
        node.node(), {family == Family::ipv4 ? "iptables-nft-save" : "ip6tables-nft-save"});
    EXPECT_THAT(save.out, Not(HasSubstr("FLANNEL"))) << save.out;
    EXPECT_THAT(save.out, Not(HasSubstr("flanneld"))) << save.out;
    EXPECT_THAT(save.out, HasSubstr("kube-test")) << save.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Stacks, IptablesCleanupTest, kAllStacks, stack_name);

}  // namespace
}  // namespace fnft::netns_test
