// The fixture of the daemon tests: a fresh FlannelNode, flanneld's config files in a
// directory of the test's own (so a test can replace them), `flannel-nftd run` in the node
// namespace, and the checks every test makes: "the kernel holds what `dump` says" (compared
// as `nft list table` text against the dump loaded into a scratch namespace, counters zeroed),
// "the daemon logged it", and "a pod still reaches the outside, masqueraded".
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "netns-tests/daemon_process.hpp"
#include "netns-tests/netns_fixture.hpp"

namespace fnft::netns_test {

// subnet.env as flanneld writes it, with `ipv4_subnet` as this node's lease.
std::string subnet_env_text(const std::string& ipv4_subnet = "10.244.1.1/24");
// net-conf.json for `stack`: with "EnableNFTables": true for the nftables mode, without the
// key (flannel's default, the iptables mode) otherwise.
std::string net_conf_text(Stack stack, bool nftables = true);

// The lines of iptables-save output, or of an iptables-restore payload, that are flanneld's
// (its chains' declarations and rules, every rule naming them or carrying its comments), by
// table, in order. Other components' lines are not in it.
std::map<std::string, std::vector<std::string>> flanneld_lines(const std::string& text);

// "iptables-nft", "ip6tables-legacy", ... for a backend ("nft" or "legacy") and family.
std::string iptables_tool(const std::string& backend, Family family,
                          const std::string& suffix = "");

class DaemonTest : public NetnsTest {
 protected:
  void TearDown() override;

  // Builds the node and writes subnet.env and net-conf.json into config_dir().
  const FlannelNode& make_daemon_node(Stack stack, bool nftables = true,
                                      PodLinks pod_links = PodLinks::made_here);
  // Replaces net-conf.json the way a ConfigMap update does (a new file renamed into place).
  void replace_net_conf(bool nftables);
  // Starts `flannel-nftd run` (with `options` after the config file options) and, when
  // `wait_ready`, waits for "flannel rules in place" and, in the nftables mode, for the
  // kernel to hold the dump.
  DaemonProcess& start_daemon(std::vector<std::string> options = {}, bool wait_ready = true);
  // Programs the next daemons are started through (e.g. {"env", "PATH=..."}); each must
  // exec the rest of its command line.
  void set_daemon_wrapper(std::vector<std::string> wrapper) { wrapper_ = std::move(wrapper); }
  // The next daemons run as the unit runs them: a user that is not root (65534) with
  // CAP_NET_ADMIN alone, so file permissions are what the kernel says they are. The config
  // directory (root's 0700) becomes readable to it.
  void run_daemons_unprivileged();
  // Options `desired_tables` passes to `dump` (e.g. --flowtable, as the daemon was started).
  void set_dump_options(std::vector<std::string> options) { dump_options_ = std::move(options); }
  // A path in the test's log directory, for the output of other long-lived children.
  std::string log_path(const std::string& name) const { return log_dir_.path() + "/" + name; }
  // The most recently started daemon.
  DaemonProcess& daemon() { return *daemons_.back(); }

  const FlannelNode& node() const { return *node_; }
  const std::string& config_dir() const { return config_dir_.path(); }
  std::string subnet_file() const { return subnet_file_; }
  void set_subnet_file(std::string path) { subnet_file_ = std::move(path); }
  std::string net_conf_file() const { return config_dir() + "/net-conf.json"; }
  // Replaces subnet.env the way flanneld does: a temporary file renamed over it.
  void replace_subnet_env(const std::string& content) const;

  // `nft ARGS...` in the node namespace; throws when nft fails.
  RunResult nft(std::vector<std::string> args, std::string_view input = {}) const;
  // Whether iptables `backend` ("nft" or "legacy") holds exactly flanneld's rules as `dump
  // --mode=iptables` prints them, for the node's families, and none for the others.
  testing::AssertionResult iptables_holds_flanneld_rules(const std::string& backend) const;
  // Whether `backend` holds no trace of flanneld's rules at all, in either family.
  testing::AssertionResult iptables_holds_no_flanneld_rules(const std::string& backend) const;
  // Polls iptables_holds_flanneld_rules.
  testing::AssertionResult iptables_become_flanneld_rules(
      const std::string& backend, std::chrono::milliseconds timeout = 10s) const;
  // Polls iptables_holds_no_flanneld_rules.
  testing::AssertionResult iptables_lose_flanneld_rules(
      const std::string& backend, std::chrono::milliseconds timeout = 10s) const;
  // The flannel tables of the node's families, `nft list table` each, counters zeroed; a
  // missing table shows as nft's error.
  std::string flannel_tables() const;
  // The same listing of `flannel-nftd dump` (with the current config files) loaded with
  // `nft -f` into a scratch namespace.
  std::string desired_tables() const;
  // Polls until flannel_tables() == desired_tables(), at most `timeout`.
  testing::AssertionResult tables_become_desired(std::chrono::milliseconds timeout = 10s) const;
  // Polls the log of the latest daemon until it holds at least `count` lines containing
  // "repaired after" and one of them contains `what`.
  testing::AssertionResult repair_logged(const std::string& what, std::size_t count = 1,
                                         std::chrono::milliseconds timeout = 10s);
  std::size_t repairs_logged() { return daemon().log_lines("repaired after").size(); }
  // Pod 1 pings the outside and sends it a UDP datagram, for each family of the node; the
  // outside has no route back to the pods, so this works only when masquerade works, and
  // the UDP server must see the node's uplink address.
  testing::AssertionResult pod_egress_is_masqueraded() const;

  // The handle of the rule with `comment` in `family`'s table.
  std::uint64_t rule_handle(Family family, const std::string& comment) const;
  // "comment -> handle" of every rule in `family`'s table, in order.
  std::vector<std::pair<std::string, std::uint64_t>> rule_handles(Family family) const;

  // For failure messages: the node's ruleset and the log of every daemon this test started.
  std::string report() const;

 private:
  const FlannelNode* node_ = nullptr;  // owned by NetnsTest
  TempDir config_dir_;
  TempDir log_dir_;
  std::string subnet_file_;
  std::vector<std::unique_ptr<DaemonProcess>> daemons_;
  std::vector<std::string> wrapper_;
  std::vector<std::string> dump_options_;
  bool nftables_mode_ = true;  // what net-conf.json says
  // The last desired listing, by the dump text it was made from.
  mutable std::string cached_dump_;
  mutable std::string cached_desired_;
};

template <typename Param>
class DaemonParamTest : public DaemonTest, public testing::WithParamInterface<Param> {};

// A family of a node's stack that a test mutates: IPv4 on an IPv4 node, IPv6 on a
// dual-stack node (where the other family's table must stay intact as well).
struct MutatedFamily {
  Stack stack;
  Family family;
};
inline const auto kMutatedFamilies = testing::Values(MutatedFamily{Stack::ipv4, Family::ipv4},
                                                     MutatedFamily{Stack::dual, Family::ipv6});
std::string mutated_family_name(const testing::TestParamInfo<MutatedFamily>& info);
inline void PrintTo(MutatedFamily target, std::ostream* out) {
  *out << to_string(target.stack) << "/" << to_string(target.family);
}

}  // namespace fnft::netns_test
