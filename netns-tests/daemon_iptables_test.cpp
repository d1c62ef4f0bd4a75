// `flannel-nftd run` in the iptables mode, flannel's default (net-conf.json without
// "EnableNFTables"): flanneld's chains in iptables-nft or iptables-legacy, each change other
// tools make undone: iptables-nft's are seen as nf_tables events, iptables-legacy's by the
// poll. Each test makes one change with the real tools, waits for the daemon's repair, and
// checks that iptables holds exactly `dump --mode=iptables`, that kube-proxy's rules beside
// ours are untouched, and that a pod's traffic to the outside is still masqueraded.
#include <gmock/gmock.h>
#include <signal.h>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;

struct IptablesCase {
  std::string backend;  // "nft" or "legacy"
  MutatedFamily target;
};

void PrintTo(const IptablesCase& param, std::ostream* out) {
  *out << param.backend << "/" << to_string(param.target.stack) << "/"
       << to_string(param.target.family);
}

std::string case_name(const testing::TestParamInfo<IptablesCase>& info) {
  const MutatedFamily& target = info.param.target;
  return info.param.backend + "_" + to_string(target.stack) +
         (target.stack == Stack::dual ? "_" + to_string(target.family) : std::string());
}

// kube-proxy's iptables mode, as much of it as sits beside ours: its own chains and jumps
// inserted first in POSTROUTING and FORWARD.
constexpr const char* kKubeProxyRules =
    "*nat\n"
    ":KUBE-POSTROUTING - [0:0]\n"
    "-I POSTROUTING 1 -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
    "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j "
    "MASQUERADE --random-fully\n"
    "COMMIT\n"
    "*filter\n"
    ":KUBE-FORWARD - [0:0]\n"
    "-I FORWARD 1 -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n"
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
    "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
    "COMMIT\n";

class DaemonIptablesTest : public DaemonParamTest<IptablesCase> {
 protected:
  void SetUp() override {
    DaemonParamTest<IptablesCase>::SetUp();
    if (IsSkipped()) return;
    make_daemon_node(GetParam().target.stack, /*nftables=*/false);
    for (const Family family : families(GetParam().target.stack)) {
      node().run_in_checked(node().node(), {tool(family, "-restore"), "--noflush"},
                            kKubeProxyRules);
    }
    kube_before_ = kube_lines();
    start_daemon({"--iptables-backend=" + GetParam().backend, "--iptables-resync=0.5"});
    ASSERT_TRUE(iptables_become_flanneld_rules(GetParam().backend));
  }

  const std::string& backend() const { return GetParam().backend; }
  Family family() const { return GetParam().target.family; }
  const Addresses& a() const { return addresses(family()); }
  std::string tool(Family of, const std::string& suffix = "") const {
    return iptables_tool(backend(), of, suffix);
  }

  // The backend's own tool for the target family, as kube-proxy or an admin runs it.
  void iptables(std::vector<std::string> args) const {
    args.insert(args.begin(), tool(family()));
    node().run_in_checked(node().node(), args);
  }

  // kube-proxy's lines in both families, to show they were never touched.
  std::string kube_lines() const {
    std::string lines;
    for (const Family f : families(GetParam().target.stack)) {
      const std::string saved = node().run_in_checked(node().node(), {tool(f, "-save")}).out;
      for (const auto& line : lines_containing(saved, "KUBE-")) lines += line + "\n";
    }
    return lines;
  }

  void expect_repaired() {
    ASSERT_TRUE(repair_logged(backend() == "nft" ? "repaired after " : "iptables-legacy poll"));
    EXPECT_TRUE(iptables_become_flanneld_rules(backend()));
    EXPECT_EQ(kube_lines(), kube_before_) << "kube-proxy's rules changed" << report();
    EXPECT_TRUE(pod_egress_is_masqueraded());
  }

  std::string kube_before_;
};

TEST_P(DaemonIptablesTest, InstallsFlanneldsRulesAndMasqueradesPodTraffic) {
  EXPECT_TRUE(pod_egress_is_masqueraded());
  EXPECT_EQ(kube_lines(), kube_before_) << report();
  // Nothing of the nftables mode.
  EXPECT_THAT(nft({"list", "tables"}).out, testing::Not(HasSubstr("flannel"))) << report();
}

TEST_P(DaemonIptablesTest, RepairsAFlushedChain) {
  iptables({"-t", "nat", "-F", "FLANNEL-POSTRTG"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RepairsADeletedRule) {
  iptables({"-t", "nat", "-D", "FLANNEL-POSTRTG", "5"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RemovesAForeignRuleInsertedIntoOurChain) {
  iptables({"-t", "filter", "-I", "FLANNEL-FWD", "1", "-s", a().pods[0], "-j", "DROP"});
  expect_repaired();
}

// flanneld's own poll (`iptables -C` per rule) sees neither of these two.
TEST_P(DaemonIptablesTest, RemovesADuplicatedRule) {
  iptables({"-t", "filter", "-A", "FLANNEL-FWD", "-s", a().cluster, "-m", "comment", "--comment",
            "flanneld forward", "-j", "ACCEPT"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RestoresTheOrderOfOurRules) {
  iptables({"-t", "nat", "-D", "FLANNEL-POSTRTG", "1"});
  iptables({"-t", "nat", "-A", "FLANNEL-POSTRTG", "-m", "mark", "--mark", "0x4000/0x4000", "-m",
            "comment", "--comment", "flanneld masq", "-j", "RETURN"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RestoresADeletedJump) {
  iptables({"-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "flanneld masq", "-j",
            "FLANNEL-POSTRTG"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RemovesADuplicatedJump) {
  iptables({"-t", "filter", "-A", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j",
            "FLANNEL-FWD"});
  expect_repaired();
}

// A jump moved out of FORWARD into INPUT would accept the cluster's traffic to the node.
TEST_P(DaemonIptablesTest, RemovesAJumpToOurChainFromAnotherChain) {
  iptables({"-t", "filter", "-A", "INPUT", "-j", "FLANNEL-FWD"});
  expect_repaired();
}

TEST_P(DaemonIptablesTest, RepairsAFlushedTable) {
  iptables({"-t", "nat", "-F"});
  // The flush took kube-proxy's rules as well; put them back as kube-proxy would.
  node().run_in_checked(
      node().node(), {tool(family(), "-restore"), "--noflush"},
      std::string(kKubeProxyRules).substr(0, std::string(kKubeProxyRules).find("*filter")));
  expect_repaired();
}

// In one transaction, as a cleanup script does it: in three commands the daemon would have
// put the jump back before the chain could go.
TEST_P(DaemonIptablesTest, RepairsADeletedChain) {
  node().run_in_checked(node().node(), {tool(family(), "-restore"), "--noflush"},
                        "*filter\n"
                        "-D FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n"
                        "-F FLANNEL-FWD\n"
                        "-X FLANNEL-FWD\n"
                        "COMMIT\n");
  expect_repaired();
}

// iptables-save prints a comment's newlines as they are, so a comment can hold lines that
// look like rules. One that names our chain must neither be taken for our jump (whose
// deletion would fail and refuse the whole restore) nor keep a rule of ours, whose comment
// holds a newline, from being deleted.
TEST_P(DaemonIptablesTest, CommentsHoldingNewlinesBlockNoRepairAndNoCleanup) {
  const std::string source = family() == Family::ipv4 ? "198.51.100.1/32" : "2001:db8::1/128";
  iptables({"-t", "nat", "-I", "POSTROUTING", "1", "-s", source, "-m", "comment", "--comment",
            "x\n-A POSTROUTING -j FLANNEL-POSTRTG\n#", "-j", "ACCEPT"});
  iptables({"-t", "nat", "-A", "POSTROUTING", "-m", "comment", "--comment", "two\nlines", "-j",
            "FLANNEL-POSTRTG"});
  iptables({"-t", "nat", "-F", "FLANNEL-POSTRTG"});
  const std::string expected = backend() == "nft" ? "repaired after " : "iptables-legacy poll";
  ASSERT_TRUE(repair_logged(expected)) << report();
  const auto saved = [&] {
    return node().run_in_checked(node().node(), {tool(family(), "-save"), "-t", "nat"}).out;
  };
  EXPECT_TRUE(eventually([&] { return saved().find("two\nlines") == std::string::npos; }, 10s))
      << saved() << report();
  EXPECT_TRUE(pod_egress_is_masqueraded()) << saved() << report();
  EXPECT_THAT(saved(), HasSubstr(source)) << "another component's rule is not ours to delete";
  EXPECT_EQ(daemon().log_lines(" error ").size(), 0U) << report();

  daemon().process().signal(SIGTERM);
  ASSERT_TRUE(daemon().process().wait_exit(10s)) << report();
  const RunResult cleanup = node().flannel_nftd("cleanup", {"--mode=iptables"});
  EXPECT_EQ(cleanup.exit_code, 0) << cleanup.describe();
  EXPECT_THAT(saved(), Not(HasSubstr(":FLANNEL-POSTRTG"))) << cleanup.describe();
  EXPECT_THAT(saved(), HasSubstr(source));
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonIptablesTest,
                         testing::Values(IptablesCase{"nft", {Stack::ipv4, Family::ipv4}},
                                         IptablesCase{"nft", {Stack::dual, Family::ipv6}},
                                         IptablesCase{"legacy", {Stack::ipv4, Family::ipv4}},
                                         IptablesCase{"legacy", {Stack::dual, Family::ipv6}}),
                         case_name);

// iptables-nft's tables are nf_tables tables: what `nft` does to them is an event as well.
// (kube-proxy's rules go with them here, and are not put back.)
using DaemonIptablesNftTest = DaemonIptablesTest;

TEST_P(DaemonIptablesNftTest, RepairsWhatNftDoesToIptablesNftsTables) {
  const std::string f = a().nft_family;
  const std::vector<std::vector<std::string>> mutations = {
      {"delete", "table", f, "filter"},
      {"flush", "table", f, "nat"},
      {"flush", "ruleset"},
  };
  for (const auto& mutation : mutations) {
    const std::size_t before = repairs_logged();
    nft(mutation);
    ASSERT_TRUE(repair_logged("after nft (pid ", before + 1)) << "after nft " << mutation[0];
    EXPECT_TRUE(iptables_become_flanneld_rules(backend())) << "after nft " << mutation[0];
    EXPECT_TRUE(pod_egress_is_masqueraded()) << "after nft " << mutation[0];
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonIptablesNftTest,
                         testing::Values(IptablesCase{"nft", {Stack::ipv4, Family::ipv4}},
                                         IptablesCase{"nft", {Stack::dual, Family::ipv6}}),
                         case_name);

}  // namespace
}  // namespace fnft::netns_test
