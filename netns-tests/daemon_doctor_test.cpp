// `flannel-nftd doctor` on a node in a namespace: each finding reproduced with the real tools
// (Docker-style FORWARD DROP through iptables-nft, iptables-legacy and iptables-nft both
// holding rules, flanneld's and the CNI plugin's masquerade, forwarding off, strict
// rp_filter, our table changed) and detected, and a clean node reporting nothing.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "netns-tests/daemon_fixture.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;

class DaemonDoctorTest : public DaemonTest {
 protected:
  struct Diagnosis {
    int exit_code = -1;
    nlohmann::json findings;
    std::string text;  // the same run without --json, for failure messages and wording
  };

  Diagnosis doctor() const {
    const std::vector<std::string> argv = {FNFT_BINARY, "doctor", "--subnet-file=" + subnet_file(),
                                           "--net-config-path=" + net_conf_file()};
    auto with_json = argv;
    with_json.push_back("--json");
    const RunResult json = node().run_in(node().node(), with_json);
    const RunResult text = node().run_in(node().node(), argv);
    const auto parsed = nlohmann::json::parse(json.out, nullptr, false);
    return {json.exit_code, parsed.is_object() ? parsed["findings"] : nlohmann::json::array(),
            text.out + text.err};
  }

  // The one finding whose text has `needle`, as "severity: what | evidence".
  static std::string finding(const Diagnosis& diagnosis, const std::string& needle) {
    for (const auto& found : diagnosis.findings) {
      const std::string line = found.value("severity", "") + ": " + found.value("what", "") +
                               " | " + found.value("evidence", "");
      if (line.find(needle) != std::string::npos) return line;
    }
    return "";
  }

  void run_in_node(std::vector<std::string> argv) const {
    const RunResult result = node().run_in(node().node(), std::move(argv));
    ASSERT_TRUE(result.ok()) << result.describe();
  }
};

TEST_F(DaemonDoctorTest, ACleanNodeReportsNothing) {
  make_daemon_node(Stack::dual);
  start_daemon();
  const Diagnosis diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 0) << diagnosis.text;
  EXPECT_TRUE(diagnosis.findings.empty()) << diagnosis.text;
  EXPECT_THAT(diagnosis.text, HasSubstr("nothing found that would break or weaken pod traffic"));
}

TEST_F(DaemonDoctorTest, ADockerStyleForwardDropIsAnErrorNamingTheChain) {
  make_daemon_node(Stack::ipv4);
  start_daemon();
  run_in_node({"iptables-nft", "-P", "FORWARD", "DROP"});
  const Diagnosis diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 1) << diagnosis.text;
  EXPECT_THAT(finding(diagnosis, "forward chain drops pod traffic"),
              HasSubstr("error: another table's forward chain drops pod traffic"))
      << diagnosis.text;
  EXPECT_THAT(finding(diagnosis, "forward chain drops pod traffic"),
              HasSubstr("table ip filter chain FORWARD (type filter hook forward priority 0) "
                        "has policy drop"));
  // The evidence is right: pods really lose their egress, whatever our accept says.
  EXPECT_FALSE(pod_egress_is_masqueraded());
}

TEST_F(DaemonDoctorTest, BothIptablesHoldingRulesIsAnError) {
  make_daemon_node(Stack::ipv4);
  start_daemon();
  run_in_node({"iptables-legacy", "-t", "nat", "-N", "FLANNEL-POSTRTG"});
  run_in_node({"iptables-nft", "-t", "nat", "-N", "KUBE-POSTROUTING"});
  const Diagnosis diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 1) << diagnosis.text;
  const std::string mixed = finding(diagnosis, "both hold");
  EXPECT_THAT(mixed, HasSubstr("FLANNEL-POSTRTG")) << diagnosis.text;
  EXPECT_THAT(mixed, HasSubstr("KUBE-POSTROUTING")) << diagnosis.text;
}

TEST_F(DaemonDoctorTest, ASecondMasqueradeWriterIsAWarning) {
  make_daemon_node(Stack::ipv4);
  start_daemon();
  std::string lease = subnet_env_text("10.244.1.1/24");
  lease.replace(lease.find("FLANNEL_IPMASQ=false"), 20, "FLANNEL_IPMASQ=true");
  replace_subnet_env(lease);
  // What the CNI bridge plugin writes with ipMasq: true.
  run_in_node({"iptables-nft", "-t", "nat", "-N", "CNI-4ab1c2d3e4f5a6b7c8d9e0f1"});
  run_in_node({"iptables-nft", "-t", "nat", "-A", "CNI-4ab1c2d3e4f5a6b7c8d9e0f1", "!", "-d",
               "224.0.0.0/4", "-j", "MASQUERADE"});
  run_in_node({"iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-s", "10.244.1.5", "-j",
               "CNI-4ab1c2d3e4f5a6b7c8d9e0f1"});
  const Diagnosis diagnosis = doctor();
  EXPECT_THAT(finding(diagnosis, "FLANNEL_IPMASQ=true"), HasSubstr("warning: flanneld masquerades"))
      << diagnosis.text;
  EXPECT_THAT(finding(diagnosis, "CNI bridge plugin"),
              HasSubstr("nat CNI-4ab1c2d3e4f5a6b7c8d9e0f1"))
      << diagnosis.text;
  EXPECT_EQ(diagnosis.exit_code, 0) << "warnings alone are not an error\n" << diagnosis.text;
}

TEST_F(DaemonDoctorTest, ForwardingOffAndStrictRpFilterOnTheFlannelDeviceAreFound) {
  make_daemon_node(Stack::ipv4);
  start_daemon();
  // Named as WireGuard's flannel device; any device of that name would do.
  run_in_node({"ip", "link", "add", "flannel-wg", "type", "veth", "peer", "name", "wg-peer"});
  run_in_node({"sysctl", "-qw", "net.ipv4.conf.flannel-wg.rp_filter=1"});
  run_in_node({"sysctl", "-qw", "net.ipv4.ip_forward=0"});
  const Diagnosis diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 1) << diagnosis.text;
  EXPECT_THAT(finding(diagnosis, "forwarding is off"), HasSubstr("net.ipv4.ip_forward = 0"))
      << diagnosis.text;
  EXPECT_THAT(finding(diagnosis, "reverse-path"), HasSubstr("warning: strict reverse-path "
                                                            "filtering on flannel-wg"))
      << diagnosis.text;
}

TEST_F(DaemonDoctorTest, OurTablesChangedWithoutADaemonAreShownAsADiff) {
  make_daemon_node(Stack::ipv4);
  const RunResult applied =
      node().run_in(node().node(), {FNFT_BINARY, "apply", "--subnet-file=" + subnet_file(),
                                    "--net-config-path=" + net_conf_file()});
  ASSERT_TRUE(applied.ok()) << applied.describe();
  EXPECT_EQ(doctor().exit_code, 0);
  nft({"flush", "chain", "ip", "flannel-nftd-ipv4", "forward"});
  const Diagnosis diagnosis = doctor();
  EXPECT_EQ(diagnosis.exit_code, 1) << diagnosis.text;
  const std::string changed = finding(diagnosis, "missing or differ");
  EXPECT_THAT(changed, HasSubstr("chain forward")) << diagnosis.text;
  EXPECT_THAT(changed, HasSubstr("- ip saddr 10.244.0.0/16 counter accept comment \"forward from "
                                 "cluster\""))
      << diagnosis.text;
}

}  // namespace
}  // namespace fnft::netns_test
