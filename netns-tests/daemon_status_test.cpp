// What operators see of a running daemon: `flannel-nftd status` (and --json) over the
// control socket before and after a repair and during a repair war; /healthz turning 503
// while repairs are impossible and back; /readyz before the first apply and while the config
// is unusable; /metrics scraped by a real Prometheus, the repair counter read back through its
// query API, and `promtool check metrics` clean.
//
// Over 400 lines: one suite, one fixture; each test proves one answer operators read.
#include <gmock/gmock.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon/process/unique_fd.hpp"
#include "netns-tests/daemon_fixture.hpp"
#include "netns-tests/private_xtables_lock.hpp"

namespace fnft::netns_test {
namespace {

using testing::HasSubstr;
using testing::Not;
using Clock = std::chrono::steady_clock;

constexpr const char* kMetrics = "127.0.0.1:9478";
constexpr const char* kPrometheus = "127.0.0.1:19090";

class DaemonStatusTest : public DaemonTest {
 protected:
  std::string control_socket() const { return config_dir() + "/control.sock"; }

  DaemonProcess& start(std::vector<std::string> options = {}, bool wait_ready = true) {
    options.push_back("--control-socket=" + control_socket());
    options.push_back(std::string("--metrics-address=") + kMetrics);
    return start_daemon(std::move(options), wait_ready);
  }

  RunResult status(std::vector<std::string> args = {}) const {
    args.insert(args.begin(), {FNFT_BINARY, "status", "--control-socket=" + control_socket()});
    return run(args);
  }

  nlohmann::json status_json() const {
    const RunResult result = status({"--json"});
    return nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  }

  // GET http://ADDRESS/path from inside the node: {HTTP status, body}.
  std::pair<int, std::string> get(const std::string& address, const std::string& path) const {
    const RunResult result = node().run_in(
        node().node(),
        {"curl", "-s", "-m", "5", "-w", "\n%{http_code}", "http://" + address + path});
    const auto last = result.out.rfind('\n');
    if (last == std::string::npos) return {0, result.describe()};
    return {std::atoi(result.out.c_str() + last + 1), result.out.substr(0, last)};
  }
};

TEST_F(DaemonStatusTest, StatusSaysInSyncThenNamesTheRepairAndWhoCausedIt) {
  make_daemon_node(Stack::dual);
  start();
  struct stat info {};
  ASSERT_EQ(::stat(control_socket().c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600U) << "the control socket must be for root only";

  const RunResult before = status();
  EXPECT_EQ(before.exit_code, 0) << before.describe();
  EXPECT_THAT(before.out, HasSubstr("in sync: the kernel holds exactly the desired rules "
                                    "(nftables mode)"));
  EXPECT_THAT(before.out, HasSubstr("IPv4 10.244.0.0/16 lease 10.244.1.0/24"));
  EXPECT_THAT(before.out, HasSubstr("cluster to outside: masquerade"));
  EXPECT_EQ(status_json().value("repairs", -1), 0);

  nft({"flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"});
  ASSERT_TRUE(repair_logged("after nft (pid "));
  ASSERT_TRUE(tables_become_desired());
  ASSERT_TRUE(eventually([&] { return status().exit_code == 0; }, 5s));
  const auto json = status_json();
  EXPECT_EQ(json.value("repairs", 0), 1) << json.dump(2);
  ASSERT_EQ(json["recent_repairs"].size(), 1U) << json.dump(2);
  EXPECT_THAT(json["recent_repairs"][0].value("cause", ""), HasSubstr("nft (pid "));
  EXPECT_THAT(status().out, HasSubstr("after nft (pid "));
  // Pod traffic makes the masquerade rule's counter move, and status shows it.
  ASSERT_TRUE(pod_egress_is_masqueraded());
  bool counted = false;
  const auto after_traffic = status_json();
  for (const auto& rule : after_traffic["rules"]) {
    if (rule.value("comment", "") == "cluster to outside: masquerade" &&
        rule.value("packets", 0) > 0) {
      counted = true;
    }
  }
  EXPECT_TRUE(counted) << status().out;
}

TEST_F(DaemonStatusTest, TheIptablesModesRuleCountersAreShownToo) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  start({"--iptables-backend=nft"});
  ASSERT_TRUE(pod_egress_is_masqueraded());
  const auto json = status_json();
  std::uint64_t masqueraded = 0;
  for (const auto& rule : json["rules"]) {
    if (rule.value("chain", "") == "FLANNEL-POSTRTG") masqueraded += rule.value("packets", 0ULL);
  }
  EXPECT_GT(masqueraded, 0U) << json.dump(2);
  EXPECT_THAT(status().out, HasSubstr("iptables-nft nat FLANNEL-POSTRTG")) << json.dump(2);
}

TEST_F(DaemonStatusTest, NoDaemonIsExitOneSayingWhatToDo) {
  make_daemon_node(Stack::ipv4);
  const RunResult result = status();
  EXPECT_EQ(result.exit_code, 1) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("cannot reach the daemon at " + control_socket()));
  EXPECT_THAT(result.err, HasSubstr("systemctl status flannel-nftd"));
}

TEST_F(DaemonStatusTest, ARepairWarShowsInStatusAndMetrics) {
  make_daemon_node(Stack::ipv4);
  start();
  TrackedProcess war(in_namespace(node().node(), {FNFT_COMMITTER_BINARY, "flush-loop", "ip",
                                                  "flannel-nftd-ipv4", "postrtg", "6"}),
                     log_path("war.log"));
  EXPECT_TRUE(eventually(
      [&] {
        const auto json = status_json();
        return json.is_object() && json["repair_war"].value("active", false);
      },
      10s))
      << status().out << report();
  EXPECT_THAT(status().out, HasSubstr("repair war: yes, waiting"));
  EXPECT_THAT(get(kMetrics, "/metrics").second, HasSubstr("flannel_nftd_repair_war 1"));
  ASSERT_EQ(war.wait_exit(15s), "exit 0") << war.describe();
  EXPECT_TRUE(tables_become_desired(10s));
}

TEST_F(DaemonStatusTest, HealthzIs503WhileAnotherProcessOwnsTheTableAndBackTo200) {
  make_daemon_node(Stack::ipv4);
  start({"--health-out-of-sync=1"});
  EXPECT_EQ(get(kMetrics, "/healthz").first, 200);
  TrackedProcess owner(in_namespace(node().node(), {FNFT_COMMITTER_BINARY, "own-table", "ip",
                                                    "flannel-nftd-ipv4", "6"}),
                       log_path("owner.log"));
  std::pair<int, std::string> health;
  EXPECT_TRUE(eventually([&] { return (health = get(kMetrics, "/healthz")).first == 503; }, 5s))
      << health.second << report();
  EXPECT_THAT(health.second, HasSubstr("out of sync for "));
  EXPECT_THAT(health.second, HasSubstr("owned by another process"));
  EXPECT_EQ(status().exit_code, 1) << "status must say: not in sync";
  ASSERT_EQ(owner.wait_exit(15s), "exit 0") << owner.describe();
  EXPECT_TRUE(eventually([&] { return get(kMetrics, "/healthz").first == 200; }, 10s)) << report();
  EXPECT_TRUE(tables_become_desired());
}

TEST_F(DaemonStatusTest, ReadyzWaitsForTheFirstApplyAndTurns503WhileTheConfigIsUnusable) {
  make_daemon_node(Stack::ipv4);
  const std::string lease = subnet_file();
  set_subnet_file(config_dir() + "/late-subnet.env");
  start({}, /*wait_ready=*/false);
  std::pair<int, std::string> ready;
  EXPECT_TRUE(eventually([&] { return (ready = get(kMetrics, "/readyz")).first == 503; }, 5s));
  EXPECT_THAT(ready.second, HasSubstr("late-subnet.env"));

  std::filesystem::copy_file(lease, subnet_file());
  EXPECT_TRUE(eventually([&] { return get(kMetrics, "/readyz").first == 200; }, 10s)) << report();

  const std::string in_place = flannel_tables();
  replace_subnet_env("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=garbage\n");
  EXPECT_TRUE(eventually([&] { return (ready = get(kMetrics, "/readyz")).first == 503; }, 5s));
  EXPECT_THAT(ready.second, HasSubstr("configuration unusable"));
  EXPECT_THAT(ready.second, HasSubstr("FLANNEL_SUBNET"));
  EXPECT_EQ(flannel_tables(), in_place) << "the rules in place stay";
  replace_subnet_env(subnet_env_text("10.244.1.1/24"));
  EXPECT_TRUE(eventually([&] { return get(kMetrics, "/readyz").first == 200; }, 5s)) << report();
}

// Each family is its own transaction: another process owning `ip flannel-nftd-ipv4` from
// before the daemon starts keeps the IPv6 rules out no longer than their first apply, and a
// daemon whose first apply keeps failing is not healthy.
TEST_F(DaemonStatusTest, AnOwnerOfTheIpv4TableKeepsNeitherTheIpv6RulesOutNorHealthzAt200) {
  make_daemon_node(Stack::dual);
  nft({"add", "table", "ip", "flannel-nftd-ipv4"});  // own-table replaces it
  TrackedProcess owner(in_namespace(node().node(), {FNFT_COMMITTER_BINARY, "own-table", "ip",
                                                    "flannel-nftd-ipv4", "30"}),
                       log_path("owner.log"));
  ASSERT_TRUE(eventually([&] { return owner.output().find("owned") != std::string::npos; }, 5s))
      << owner.describe();
  start({"--health-out-of-sync=1"}, /*wait_ready=*/false);

  // Bounded by the owner's life only: what matters is that it happens while the owner holds.
  bool ipv6_in_place = false;
  eventually(
      [&] {
        const RunResult listed =
            node().run_in(node().node(), {"nft", "list", "table", "ip6", "flannel-nftd-ipv6"});
        ipv6_in_place = listed.ok() && listed.out.find("masquerade") != std::string::npos;
        return ipv6_in_place || !owner.running();
      },
      40s);
  EXPECT_TRUE(ipv6_in_place && owner.running())
      << "the IPv6 table waited for the owner of the IPv4 one" << report();
  std::pair<int, std::string> health;
  eventually([&] { return (health = get(kMetrics, "/healthz")).first == 503 || !owner.running(); },
             40s);
  EXPECT_EQ(health.first, 503) << health.second << report();
  EXPECT_THAT(health.second, HasSubstr("owned by another process"));
  EXPECT_EQ(get(kMetrics, "/readyz").first, 503);
  EXPECT_EQ(status().exit_code, 1) << "status must say: not in sync";

  owner.signal(SIGTERM);
  EXPECT_TRUE(eventually([&] { return get(kMetrics, "/readyz").first == 200; }, 30s)) << report();
  EXPECT_EQ(get(kMetrics, "/healthz").first, 200);
  EXPECT_TRUE(tables_become_desired());
}

// iptables-legacy has no events: a poll finds the change, and its repair then waits on the
// xtables lock as long as another restore holds it (seconds, with kube-proxy on a busy node).
// From the moment the poll saw the difference the node is not in sync, whatever the wait.
TEST_F(DaemonStatusTest, ARepairWaitingOnTheXtablesLockIsNotInSync) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  PrivateXtablesLock lock;
  set_daemon_wrapper(lock.wrapper());
  start({"--iptables-backend=legacy", "--iptables-resync=0.5", "--health-out-of-sync=1"});
  ASSERT_EQ(status().exit_code, 0) << status().describe() << report();

  lock.hold();
  node().run_in_checked(node().node(), {"iptables-legacy", "-t", "nat", "-F", "FLANNEL-POSTRTG"});
  RunResult said;
  EXPECT_TRUE(eventually([&] { return (said = status()).exit_code == 1; }, 30s))
      << said.describe() << report();
  EXPECT_THAT(said.out, HasSubstr("NOT in sync"));
  std::pair<int, std::string> health;
  EXPECT_TRUE(eventually([&] { return (health = get(kMetrics, "/healthz")).first == 503; }, 30s))
      << health.second << report();
  EXPECT_THAT(health.second, HasSubstr("a repair has not completed"));
  EXPECT_THAT(get(kMetrics, "/metrics").second, HasSubstr("flannel_nftd_in_sync 0"));
  const RunResult nat = node().run_in(node().node(), {"iptables-legacy-save", "-t", "nat"});
  EXPECT_THAT(nat.out, Not(HasSubstr("-A FLANNEL-POSTRTG"))) << "the repair is still waiting";

  lock.release();
  EXPECT_TRUE(iptables_become_flanneld_rules("legacy")) << report();
  EXPECT_TRUE(eventually([&] { return status().exit_code == 0; }, 30s)) << report();
  EXPECT_EQ(get(kMetrics, "/healthz").first, 200);
}

// A stopped reactor accepts nothing: once the control socket's backlog is full, connect()
// would wait for ever. `status` gives up at its --timeout, connect included, with one line.
TEST_F(DaemonStatusTest, StatusGivesUpOnAStoppedDaemonWhoseBacklogIsFull) {
  make_daemon_node(Stack::ipv4);
  start();
  daemon().process().signal(SIGSTOP);
  struct Resume {
    DaemonProcess& daemon;
    ~Resume() { daemon.process().signal(SIGCONT); }
  } resume{daemon()};
  std::vector<UniqueFd> pending;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, control_socket().c_str(), sizeof(address.sun_path) - 1);
  for (int i = 0; i < 4096; ++i) {
    UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ASSERT_TRUE(client.valid());
    if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
        0) {
      ASSERT_EQ(errno, EAGAIN) << std::strerror(errno);
      break;  // the backlog is full
    }
    pending.push_back(std::move(client));
  }
  std::printf("[ backlog  ] %zu connections pending on the stopped daemon\n", pending.size());

  const RunResult said = run(
      {FNFT_BINARY, "status", "--control-socket=" + control_socket(), "--timeout=0.5"}, {}, 30s);
  EXPECT_EQ(said.exit_code, 1) << said.describe();
  EXPECT_THAT(said.err, HasSubstr("accepted no connection within 0.5 s (its backlog is full): "
                                  "its reactor may be stuck"))
      << said.describe();

  pending.clear();
  daemon().process().signal(SIGCONT);
  EXPECT_TRUE(eventually([&] { return status().exit_code == 0; }, 10s)) << report();
}

TEST_F(DaemonStatusTest, MetricsAreScrapedByARealPrometheusAndPassPromtool) {
  make_daemon_node(Stack::dual);
  start();
  const auto [code, metrics] = get(kMetrics, "/metrics");
  ASSERT_EQ(code, 200) << metrics;
  const RunResult lint = run({"promtool", "check", "metrics"}, metrics);
  EXPECT_EQ(lint.exit_code, 0) << lint.describe();
  EXPECT_EQ(lint.out + lint.err, "") << "promtool found problems";

  const std::string dir = config_dir() + "/prometheus";
  std::filesystem::create_directories(dir + "/data");
  {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           << "scrape_configs:\n  - job_name: flannel-nftd\n    static_configs:\n"
           << "      - targets: ['" << kMetrics << "']\n";
  }
  BackgroundProcess prometheus =
      node().spawn_in(node().node(), {"prometheus", "--config.file=" + dir + "/prometheus.yml",
                                      "--storage.tsdb.path=" + dir + "/data",
                                      std::string("--web.listen-address=") + kPrometheus});
  ASSERT_TRUE(eventually([&] { return get(kPrometheus, "/-/ready").first == 200; }, 30s))
      << prometheus.describe();

  nft({"delete", "chain", "ip6", "flannel-nftd-ipv6", "forward"});
  ASSERT_TRUE(repair_logged("after nft (pid "));
  const auto query = [&](const std::string& expression) {
    const auto [status_code, body] = get(kPrometheus, "/api/v1/query?query=" + expression);
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (status_code != 200 || !json.is_object() || json["data"]["result"].empty()) return -1.0;
    return std::stod(json["data"]["result"][0]["value"][1].get<std::string>());
  };
  double repairs = -1;
  EXPECT_TRUE(eventually(
      [&] {
        return (repairs = query("flannel_nftd_repairs_total%7Bip_family%3D%22ipv6%22%2C"
                                "object%3D%22chain%22%7D")) >= 1;
      },
      20s))
      << "Prometheus never read the repair: " << repairs << "\n"
      << prometheus.describe();
  EXPECT_EQ(query("flannel_nftd_in_sync"), 1);
  EXPECT_GE(query("flannel_nftd_foreign_commits_total%7Bprocess%3D%22nft%22%7D"), 1);
}

// Names come from other processes: a committer names itself (here through a symlink to nft
// whose name is not UTF-8), a chain name in our table may hold any bytes, and so may a rule
// comment in iptables-legacy. The daemon keeps running, `status --json` stays valid JSON,
// /metrics stays valid for promtool, and the committer label set stays bounded.
TEST_F(DaemonStatusTest, NamesThatAreNotTextNeitherEndTheDaemonNorBreakItsOutput) {
  make_daemon_node(Stack::ipv4);
  start({"--protect=off"});
  const std::string odd_nft = config_dir() + "/x\xff\xfe";
  std::filesystem::create_symlink("/usr/sbin/nft", odd_nft);
  node().run_in_checked(node().node(),
                        {odd_nft, "flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"});
  ASSERT_TRUE(repair_logged("after x\\xFF\\xFE (pid ")) << report();
  node().run_in_checked(node().node(),
                        {FNFT_COMMITTER_BINARY, "add-chain", "ip", "flannel-nftd-ipv4", "c\xe9"});
  ASSERT_TRUE(repair_logged("addchain ip flannel-nftd-ipv4 c\\xE9", 2)) << report();

  const RunResult listed = status({"--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.describe() << report();
  const auto json = nlohmann::json::parse(listed.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << listed.out;
  std::string causes;
  for (const auto& repair : json["recent_repairs"]) causes += repair.value("cause", "") + "\n";
  EXPECT_THAT(json.dump(), HasSubstr("x\\\\xFF\\\\xFE")) << causes;
  EXPECT_EQ(status().exit_code, 0);

  // More distinct committer names than the label set holds, each one commit.
  for (int i = 0; i < 40; ++i) {
    const std::string name = config_dir() + "/n" + std::to_string(i);
    std::filesystem::create_symlink("/usr/sbin/nft", name);
    node().run_in_checked(
        node().node(), {name, "add", "chain", "ip", "flannel-nftd-ipv4", "x" + std::to_string(i)});
  }
  ASSERT_TRUE(tables_become_desired()) << report();
  EXPECT_EQ(status().exit_code, 0) << report();

  const auto [code, metrics] = get(kMetrics, "/metrics");
  ASSERT_EQ(code, 200) << metrics;
  const RunResult lint = run({"promtool", "check", "metrics"}, metrics);
  EXPECT_EQ(lint.out + lint.err, "") << "promtool found problems";
  std::size_t committer_series = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("flannel_nftd_foreign_commits_total{", 0) == 0) ++committer_series;
  }
  EXPECT_GE(committer_series, 30U) << metrics;
  EXPECT_LE(committer_series, 33U) << "one series per committer name, without bound";
  EXPECT_THAT(metrics, HasSubstr("flannel_nftd_foreign_commits_total{process=\"other\"}"));
  EXPECT_TRUE(daemon().process().running()) << report();
}

// A rule comment in iptables-legacy (read back from iptables-save -c) is any bytes too.
TEST_F(DaemonStatusTest, AnIptablesCommentThatIsNotTextKeepsTheStatusDocumentValid) {
  make_daemon_node(Stack::ipv4, /*nftables=*/false);
  start({"--iptables-backend=legacy", "--iptables-resync=60"});
  node().run_in_checked(node().node(),
                        {"iptables-legacy", "-w", "-t", "nat", "-A", "FLANNEL-POSTRTG", "-s",
                         "198.51.100.7/32", "-m", "comment", "--comment", "y\xff", "-j", "RETURN"});
  const RunResult listed = status({"--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.describe() << report();
  const auto json = nlohmann::json::parse(listed.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << listed.out;
  bool shown = false;
  for (const auto& rule : json["rules"]) shown |= rule.value("comment", "") == "y\\xFF";
  EXPECT_TRUE(shown) << json.dump(2);
  EXPECT_EQ(status().exit_code, 0);
  EXPECT_TRUE(daemon().process().running()) << report();
}

// Under systemd, flannel-nftd.socket listens and the daemon serves on the socket it passes
// (LISTEN_FDS): systemd's own socket activator plays systemd here.
TEST_F(DaemonStatusTest, ServesMetricsOnTheSocketSystemdPasses) {
  make_daemon_node(Stack::ipv4);
  set_daemon_wrapper({"systemd-socket-activate", "-l", "127.0.0.1:9479"});
  start_daemon({"--metrics-address=off"}, /*wait_ready=*/false);
  std::pair<int, std::string> health;
  // The first connection makes the activator start the daemon with the listening socket.
  EXPECT_TRUE(
      eventually([&] { return (health = get("127.0.0.1:9479", "/readyz")).first == 200; }, 10s))
      << health.second << report();
  EXPECT_TRUE(daemon().wait_for_log("on the socket systemd passed", 5s)) << report();
  EXPECT_THAT(get("127.0.0.1:9479", "/metrics").second, HasSubstr("flannel_nftd_in_sync 1"));
}

// A scrape reads our tables from the kernel on the reactor, which repairs wait behind: any
// number of scrapes within a second share one read. The daemon's dump requests (sendmsg to
// the kernel over netlink) are counted for one scrape, then for a burst of them.
TEST_F(DaemonStatusTest, ScrapesAtAnyRateShareOneReadOfTheTablesASecond) {
  make_daemon_node(Stack::dual);
  const std::string trace = log_path("sendmsg.trace");
  set_daemon_wrapper({"strace", "-f", "-qq", "-e", "trace=sendmsg", "-o", trace, "setpriv",
                      "--pdeathsig", "KILL"});
  start();
  const auto dump_requests = [&] {
    std::ifstream file(trace);
    const std::string traced((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
    // Netlink requests (a quiet node's daemon sends nothing else over netlink); without
    // naming the socket's protocol, which needs NETLINK_DIAG that a test kernel may lack.
    return lines_containing(traced, "sa_family=AF_NETLINK").size();
  };
  std::this_thread::sleep_for(1100ms);  // older than any read the start-up made
  const auto before_one = dump_requests();
  ASSERT_THAT(get(kMetrics, "/metrics").second, HasSubstr("flannel_nftd_rules{"));
  const auto one_read = dump_requests() - before_one;
  ASSERT_GT(one_read, 0U) << "a scrape read nothing from the kernel: the trace sees no dump\n"
                          << run({"tail", "-n", "20", trace}).describe();

  constexpr int kScrapes = 200;
  std::vector<std::string> burst = {"curl", "-s", "-o", "/dev/null", "-m", "60"};
  for (int i = 0; i < kScrapes; ++i)
    burst.push_back(std::string("http://") + kMetrics + "/metrics");
  const auto before_burst = dump_requests();
  const auto started = Clock::now();
  node().run_in_checked(node().node(), burst);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const auto burst_requests = dump_requests() - before_burst;
  // One read per second the burst lasted, and one more for the second it started in.
  const auto reads_allowed = static_cast<std::size_t>(seconds) + 1;
  std::printf("[ measured ] %d scrapes in %.2f s: %zu dump requests (%zu per read)\n", kScrapes,
              seconds, burst_requests, one_read);
  EXPECT_LE(burst_requests, reads_allowed * one_read)
      << kScrapes << " scrapes in " << seconds << " s\n"
      << report();
}

}  // namespace
}  // namespace fnft::netns_test
