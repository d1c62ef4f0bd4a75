#include "bench/window_run.hpp"

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/conntrack_fill.hpp"
#include "testkit/daemon_log.hpp"
#include "testkit/flannel_node.hpp"
#include "testkit/network_namespace.hpp"
#include "testkit/temp_dir.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testkit::Family;

constexpr std::uint16_t kEchoPort = 9300;
// The daemon's default metrics address, inside the node namespace.
constexpr const char* kHealthAddress = "127.0.0.1";
constexpr std::uint16_t kHealthPort = 9478;

std::string read_from(const std::filesystem::path& file, std::uintmax_t from) {
  std::ifstream in(file);
  in.seekg(static_cast<std::streamoff>(from));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What keeps conntrack tracking on every real node whatever our rules hold: kube-proxy's
// forward chain drops invalid packets. Without any conntrack user, a window in which our nat
// chain is gone leaves no entry behind, and the benchmark would measure a node that does
// not exist.
void add_kube_proxy_conntrack_user(const testkit::FlannelNode& node) {
  node.run_in_checked(node.node(), {"nft", "-f", "-"},
                      "table ip kube-proxy {\n  chain filter-forward {\n    type filter hook "
                      "forward priority -110; policy accept;\n    ct state invalid drop\n  }\n}\n");
}

std::unique_ptr<testkit::TrackedProcess> start_daemon(const WindowRunSettings& settings,
                                                      const testkit::FlannelNode& node,
                                                      const std::filesystem::path& log) {
  std::vector<std::string> argv = {
      settings.daemon,
      "run",
      "--subnet-file=" + node.subnet_file(),
      "--net-config-path=" + node.net_conf_file(),
      "--log-level=debug",
      "--control-socket=off",
      std::string("--conntrack-reset=") + (settings.conntrack_reset ? "on" : "off")};
  argv.insert(argv.end(), settings.daemon_args.begin(), settings.daemon_args.end());
  std::unique_ptr<testkit::TrackedProcess> daemon;
  {
    const testkit::InNamespace inside(node.node());
    daemon = std::make_unique<testkit::TrackedProcess>(argv, log.string(), SIGTERM);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (read_from(log, 0).find("watching for changes") == std::string::npos) {
    if (!daemon->running() || Clock::now() > deadline) {
      throw std::runtime_error("flannel-nftd did not get ready (" + daemon->exit_status() + "):\n" +
                               read_from(log, 0));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return daemon;
}

// The pod-to-outside entries whose reply goes to the pod itself: not masqueraded.
std::size_t unnated_entries(const testkit::FlannelNode& node) {
  const testkit::Addresses& a = testkit::addresses(Family::ipv4);
  const std::string listed = node.run_in(node.node(), {"conntrack", "-L", "-p", "udp", "--orig-src",
                                                       a.pods[0], "--orig-dst", a.outside})
                                 .out;
  return testkit::lines_containing(listed, "src=" + a.outside + " dst=" + a.pods[0] + " ").size();
}

std::uint64_t conntrack_count(const testkit::FlannelNode& node) {
  const auto counted =
      node.run_in(node.node(), {"cat", "/proc/sys/net/netfilter/nf_conntrack_count"});
  return counted.ok() ? std::stoull(counted.out) : 0;
}

void read_daemon_log(const std::string& text, WindowRunResult& result) {
  result.repairs = static_cast<int>(testkit::lines_containing(text, "repaired after").size());
  static const std::regex reset_line(R"((\d+) connection\(s\) that missed masquerade reset after)");
  static const std::regex timing(
      R"((\d+) entries without NAT or reply examined, (\d+) reset in (\d+) us)");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_search(line, match, reset_line)) {
      result.connections_reset += std::stoull(match[1].str());
    } else if (std::regex_search(line, match, timing)) {
      result.examined.push_back(std::stod(match[1].str()));
      result.reset_micros.push_back(std::stod(match[3].str()));
    }
  }
}

}  // namespace

WindowRunResult run_windows(const WindowRunSettings& settings) {
  WindowRunResult result;
  testkit::FlannelNode node(testkit::Stack::ipv4);
  add_kube_proxy_conntrack_user(node);
  const testkit::TempDir logs;
  const std::filesystem::path log = std::filesystem::path(logs.path()) / "daemon.log";
  if (settings.unrelated_entries > 0) {
    const testkit::InNamespace inside(node.node());
    fill_conntrack_table(settings.unrelated_entries, settings.unrelated_answered);
  }
  result.conntrack_entries = conntrack_count(node);
  auto daemon = start_daemon(settings, node, log);
  const testkit::Addresses& a = testkit::addresses(Family::ipv4);
  // The first datagrams must not wait for ARP.
  node.run_in_checked(node.pod(0), {"ping", "-c", "1", "-W", "2", a.outside});

  std::optional<ReactorProbe> probe;
  if (settings.probe_reactor) probe.emplace(node.node(), kHealthAddress, kHealthPort);
  UdpFlowLoad load({node.pod(0), node.outside(), a.outside, kEchoPort, settings.flows_per_second});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  const std::uintmax_t from = testkit::log_size(log);
  const auto cpu_before = daemon->cpu_time();
  for (int window = 0; window < settings.windows; ++window) {
    const auto mutated = node.run_in(node.node(), settings.mutation);
    if (mutated.ok()) {
      ++result.mutations_accepted;
    } else if (result.refusal.empty()) {
      result.refusal = mutated.err.empty() ? mutated.out : mutated.err;
    }
    std::this_thread::sleep_for(settings.gap);
  }
  result.flows = load.finish(settings.tail);
  if (probe) result.reactor = probe->finish();
  const auto cpu_after = daemon->cpu_time();
  result.reactor_cpu_ms =
      std::chrono::duration<double, std::milli>(cpu_after.runtime - cpu_before.runtime).count();
  result.daemon_cpu_ms = std::chrono::duration<double, std::milli>(cpu_after.user_plus_system -
                                                                   cpu_before.user_plus_system)
                             .count();
  result.unnated_entries_left = unnated_entries(node);
  read_daemon_log(read_from(log, from), result);
  result.daemon_warnings = testkit::warnings_and_errors(log);
  daemon->stop();
  return result;
}

}  // namespace fnft::bench
