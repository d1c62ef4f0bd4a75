// `flannel-nftd dump` prints rules the kernel accepts: nft syntax that `nft -f` loads, and
// iptables-restore payloads that iptables-nft-restore / ip6tables-nft-restore load.
#include <gmock/gmock.h>

#include <algorithm>

#include "netns-tests/netns_fixture.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

int count_lines_starting_with(const std::string& text, const std::string& start) {
  int count = 0;
  std::size_t line = 0;
  while (line < text.size()) {
    if (text.compare(line, start.size(), start) == 0) ++count;
    const std::size_t end = text.find('\n', line);
    if (end == std::string::npos) break;
    line = end + 1;
  }
  return count;
}

using DumpLoadTest = NetnsParamTest<Stack>;

TEST_P(DumpLoadTest, NftablesDumpLoadsWithNftIntoNodeNamespace) {
  const FlannelNode& node = make_node(GetParam());
  const std::string text = node.dump({"--mode=nftables"});
  const RunResult load = node.run_in(node.node(), {"nft", "-f", "-"}, text);
  ASSERT_TRUE(load.ok()) << load.describe() << "--- dump ---\n" << text;

  for (const Family family : {Family::ipv4, Family::ipv6}) {
    const Addresses& a = addresses(family);
    const RunResult list =
        node.run_in(node.node(), {"nft", "list", "table", a.nft_family, a.table});
    const auto enabled = families(GetParam());
    if (std::find(enabled.begin(), enabled.end(), family) == enabled.end()) {
      EXPECT_FALSE(list.ok()) << to_string(family) << " is disabled, yet its table exists"
                              << node.rules_report();
      continue;
    }
    ASSERT_TRUE(list.ok()) << list.describe() << node.rules_report();
    EXPECT_THAT(list.out, HasSubstr("chain postrtg {\n\t\ttype nat hook postrouting priority "
                                    "srcnat; policy accept;"));
    EXPECT_THAT(list.out, HasSubstr("chain forward {\n\t\ttype filter hook forward priority "
                                    "filter; policy accept;"));
    EXPECT_THAT(list.out, HasSubstr(a.nft_family + " saddr " + a.cluster))
        << "the cluster network is in the rules";
  }
}

TEST_P(DumpLoadTest, IptablesDumpLoadsWithIptablesNftRestore) {
  const FlannelNode& node = make_node(GetParam());
  for (const Family family : families(GetParam())) {
    const bool v4 = family == Family::ipv4;
    // iptables-nft-restore takes one family per payload.
    const std::string payload =
        node.dump({"--mode=iptables", v4 ? "--family=ipv4" : "--family=ipv6"});
    // --noflush, as flanneld loads it: without it the restore would replace the node's
    // whole nat and filter tables, not just add flannel's chains.
    const RunResult load = node.run_in(
        node.node(), {v4 ? "iptables-nft-restore" : "ip6tables-nft-restore", "--noflush"}, payload);
    ASSERT_TRUE(load.ok()) << load.describe() << "--- payload ---\n" << payload;

    const std::string save_tool = v4 ? "iptables-nft-save" : "ip6tables-nft-save";
    const RunResult nat = node.run_in(node.node(), {save_tool, "-t", "nat"});
    ASSERT_TRUE(nat.ok()) << nat.describe();
    EXPECT_THAT(nat.out, HasSubstr(":FLANNEL-POSTRTG - [0:0]")) << nat.out;
    EXPECT_THAT(nat.out, HasSubstr("-A POSTROUTING -m comment --comment \"flanneld masq\" -j "
                                   "FLANNEL-POSTRTG"))
        << nat.out;
    EXPECT_EQ(count_lines_starting_with(nat.out, "-A FLANNEL-POSTRTG "), 6) << nat.out;

    const RunResult filter = node.run_in(node.node(), {save_tool, "-t", "filter"});
    ASSERT_TRUE(filter.ok()) << filter.describe();
    EXPECT_THAT(filter.out, HasSubstr(":FLANNEL-FWD - [0:0]")) << filter.out;
    EXPECT_THAT(filter.out, HasSubstr("-A FORWARD -m comment --comment \"flanneld forward\" -j "
                                      "FLANNEL-FWD"))
        << filter.out;
    EXPECT_EQ(count_lines_starting_with(filter.out, "-A FLANNEL-FWD "), 2) << filter.out;
  }
  // iptables mode writes no nftables table of its own besides iptables-nft's.
  EXPECT_THAT(node.ruleset(), Not(HasSubstr("flannel-ipv")));
}

INSTANTIATE_TEST_SUITE_P(Stacks, DumpLoadTest, kAllStacks, stack_name);

}  // namespace
}  // namespace fnft::netns_test
