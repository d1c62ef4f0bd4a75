// bench/flowtable: what --flowtable buys, forwarding through a node that runs the real
// flannel-nftd with its real ruleset, and how fast its device set follows a burst of pods.
//
// Four setups of the same node (bench/flowtable_topology.hpp), measured in alternating order
// round after round, so drift in a shared machine falls on all of them alike:
//   - no rules: plain forwarding, the baseline of the bare flowtable;
//   - bare flowtable: only a flowtable on the daemon's devices and one `flow add` rule, the
//     reference the daemon's ruleset should reach;
//   - flannel-nftd: `run` without --flowtable (the daemon's ruleset, every packet through it);
//   - flannel-nftd --flowtable: the same with the fast path.
// Each setup: pktgen 64-byte UDP frames pod -> remote pod through flannel.1 and pod -> outside
// through the uplink (delivered frames per second, counted at the far side's ingress), and TCP
// (iperf3) with GSO, TSO and GRO off on the same two paths (pod -> outside masqueraded by the
// daemon's setups). Medians of
// the rounds, and the ratios fast path / daemon and bare flowtable / no rules.
//
// Then the burst: with --flowtable running, 1000 veths enslaved to cni0 in one `ip -batch`,
// then deleted in another; the time from the last link event to the daemon's last commit, the
// number of its commits, and whether any failed. Needs a kernel with flowtables
// (`netns-tests/kernel/uml.sh run build/bench/flowtable`); prints tables and writes
// bench/results/flowtable.md and flowtable.json. Not a test: it asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "bench/bench_main.hpp"
#include "bench/daemon_log.hpp"
#include "bench/daemon_process.hpp"
#include "bench/flowtable_topology.hpp"
#include "bench/generation_monitor.hpp"
#include "bench/link_event_monitor.hpp"
#include "bench/pktgen.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "daemon/process/child_process.hpp"
#include "netlink/link_watcher.hpp"
#include "state/fast_path.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string daemon = FNFT_DAEMON_BINARY;
  int rounds = 5;
  long frames = 300000;
  int tcp_seconds = 3;
  int burst = 1000;
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

enum class Setup { no_rules, bare_flowtable, daemon, daemon_fast_path };
constexpr Setup kSetups[] = {Setup::no_rules, Setup::bare_flowtable, Setup::daemon,
                             Setup::daemon_fast_path};

std::string name_of(Setup setup) {
  switch (setup) {
    case Setup::no_rules: return "no rules";
    case Setup::bare_flowtable: return "bare flowtable";
    case Setup::daemon: return "flannel-nftd";
    case Setup::daemon_fast_path: return "flannel-nftd --flowtable";
  }
  return "?";
}

constexpr const char* kSubnetEnv =
    "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n"
    "FLANNEL_IPMASQ=false\n";
constexpr const char* kNetConf =
    R"({"Network": "10.244.0.0/16", "EnableNFTables": true, "Backend": {"Type": "vxlan"}})";
constexpr int kSinkPort = 10001;
constexpr int kSourcePort = 10000;

bool kernel_has_flowtables() {
  const NamedNamespace scratch("fnft-bench-" + std::to_string(::getpid()) + "-probe");
  try {
    scratch.run({"nft", "-f", "-"},
                "table ip t {\n  flowtable f { hook ingress priority 0; }\n}\n");
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

// The packets the sink rule in `ns` counted (and dropped) so far.
long sink_packets(const NamedNamespace& ns) {
  const std::string listed = ns.run({"nft", "list", "chain", "netdev", "sink", "in"});
  static const std::regex packets(R"(packets (\d+))");
  std::smatch match;
  return std::regex_search(listed, match, packets) ? std::stol(match[1].str()) : 0;
}

class Bench {
 public:
  explicit Bench(const Options& options)
      : options_(options),
        prefix_("fnft-bench-" + std::to_string(::getpid()) + "-"),
        topology_(prefix_),
        files_dir_(std::filesystem::temp_directory_path() / (prefix_ + "files")) {
    std::filesystem::create_directories(files_dir_);
    write(files_dir_ / "subnet.env", kSubnetEnv);
    write(files_dir_ / "net-conf.json", kNetConf);
    topology_.disable_segmentation_offloads();
    // pktgen's frames end at the far side's ingress: counted and dropped there.
    for (const auto& [ns, device] :
         {std::pair{&topology_.remote(), "flannel.1"}, std::pair{&topology_.outside(), "eth0"}}) {
      ns->run({"nft", "-f", "-"},
              "table netdev sink {\n  chain in {\n    type filter hook "
              "ingress device " +
                  std::string(device) + " priority 0;\n    udp dport " + std::to_string(kSinkPort) +
                  " counter drop\n  }\n}\n");
    }
    {
      const InsideNamespace inside(topology_.node());
      const netlink::LinkWatcher links;
      devices_ = state::fast_path_devices(links.links(), links.default_routes(), {});
    }
  }
  ~Bench() { std::filesystem::remove_all(files_dir_); }

  const std::vector<std::string>& devices() const { return devices_; }

  // Installs `setup`, runs `measure`, removes it again.
  template <typename Measure>
  void with(Setup setup, const Measure& measure) {
    std::unique_ptr<DaemonProcess> daemon;
    if (setup == Setup::bare_flowtable) {
      std::string list;
      for (const auto& device : devices_) list += (list.empty() ? "" : ", ") + device;
      topology_.node().run({"nft", "-f", "-"},
                           "table ip bare {\n  flowtable f { hook ingress priority filter; "
                           "devices = { " +
                               list +
                               " }; counter; }\n  chain forward {\n    type "
                               "filter hook forward priority filter; policy accept;\n    ip saddr "
                               "10.244.0.0/16 ct state established flow add @f\n  }\n}\n");
    } else if (setup != Setup::no_rules) {
      daemon = start_daemon(setup == Setup::daemon_fast_path);
    }
    measure();
    if (daemon) {
      daemon->stop();
      topology_.node().run({options_.daemon, "cleanup", "--mode=nftables"});
    } else if (setup == Setup::bare_flowtable) {
      topology_.node().run({"nft", "delete", "table", "ip", "bare"});
    }
  }

  std::unique_ptr<DaemonProcess> start_daemon(bool fast_path,
                                              std::filesystem::path* log_out = nullptr) {
    const std::filesystem::path log =
        files_dir_ / ("daemon-" + std::to_string(++daemons_) + ".log");
    std::vector<std::string> args = {"run", "--subnet-file=" + (files_dir_ / "subnet.env").string(),
                                     "--net-config-path=" + (files_dir_ / "net-conf.json").string(),
                                     "--log-level=info"};
    if (fast_path) args.push_back("--flowtable=required");
    std::unique_ptr<DaemonProcess> daemon;
    {
      const InsideNamespace inside(topology_.node());
      daemon = std::make_unique<DaemonProcess>(options_.daemon, args, log);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (read(log).find("watching for changes") == std::string::npos) {
      if (!daemon->running() || Clock::now() > deadline) {
        throw std::runtime_error("flannel-nftd did not get ready (" + daemon->exit_description() +
                                 "):\n" + read(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (log_out != nullptr) *log_out = log;
    return daemon;
  }

  // Delivered frames per second from the pod to the remote pod (through flannel.1) or to the
  // outside (through the uplink, masqueraded by the daemon's setups). The flow is made
  // established first, one frame each way, as any real flow is before it can be offloaded;
  // the answer goes where conntrack's reply tuple says (the masqueraded port, if any).
  double pktgen_frames_per_second(bool to_remote) {
    const NamedNamespace& far = to_remote ? topology_.remote() : topology_.outside();
    const std::string destination =
        to_remote ? FlowtableTopology::kRemotePod : FlowtableTopology::kOutside;
    topology_.node().run({"conntrack", "-F"});
    const PktgenFlow out{"eth0",      FlowtableTopology::kPod,
                         destination, topology_.bridge_mac(),
                         kSourcePort, kSinkPort};
    pktgen_send(topology_.pod(), out, 1);
    const auto [reply_address, reply_port] = reply_destination(destination);
    const PktgenFlow back{to_remote ? "flannel.1" : "eth0",
                          destination,
                          reply_address,
                          to_remote ? topology_.node_vtep_mac() : topology_.uplink_mac(),
                          kSinkPort,
                          reply_port};
    pktgen_send(far, back, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const long before = sink_packets(far);
    const double micros = pktgen_send(topology_.pod(), out, options_.frames);
    const long delivered = sink_packets(far) - before;
    if (std::getenv("FNFT_BENCH_DEBUG") != nullptr) {
      std::cerr << topology_.node().run({"conntrack", "-L", "-p", "udp"})
                << topology_.node().run({"nft", "list", "ruleset"});
    }
    return static_cast<double>(delivered) / micros * 1e6;
  }

  // Where the far side's answer to the pod's first frame must go: conntrack's reply tuple,
  // or the pod itself where no rule needs conntrack (the node without rules tracks nothing).
  std::pair<std::string, int> reply_destination(const std::string& destination) {
    const std::string listed =
        topology_.node().run({"conntrack", "-L", "-p", "udp", "--orig-src", FlowtableTopology::kPod,
                              "--orig-dst", destination});
    if (listed.find("src=") == std::string::npos) return {FlowtableTopology::kPod, kSourcePort};
    static const std::regex reply(R"(dport=\d+ .*?src=\S+ dst=(\S+) sport=\d+ dport=(\d+))");
    std::smatch match;
    if (!std::regex_search(listed, match, reply)) {
      throw std::runtime_error("cannot read the reply tuple of the pod's frame to " + destination +
                               ":\n" + listed);
    }
    return {match[1].str(), std::stoi(match[2].str())};
  }

  // iperf3 from the pod to `server` at `address`, in Mbit/s received.
  double tcp_mbits(const NamedNamespace& server, const std::string& address) {
    daemon::ChildProcess listening(
        {"ip", "netns", "exec", server.name(), "iperf3", "-s", "-1", "-B", address, "-p", "5201"},
        {});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto client =
        daemon::run_child({"ip", "netns", "exec", topology_.pod().name(), "iperf3", "-c", address,
                           "-p", "5201", "-t", std::to_string(options_.tcp_seconds), "-J"},
                          {}, std::chrono::seconds(options_.tcp_seconds + 30));
    listening.wait(std::chrono::seconds(10));
    if (!client.ok()) throw std::runtime_error("iperf3 to " + address + " failed: " + client.out);
    const auto result = nlohmann::json::parse(client.out);
    return result.at("end").at("sum_received").at("bits_per_second").get<double>() / 1e6;
  }

  const FlowtableTopology& topology() const { return topology_; }
  static std::string read(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static void write(const std::filesystem::path& file, const std::string& text) {
    std::ofstream(file) << text;
  }

  Options options_;
  std::string prefix_;
  FlowtableTopology topology_;
  std::filesystem::path files_dir_;
  std::vector<std::string> devices_;
  int daemons_ = 0;
};

struct BurstResult {
  std::string phase;
  std::uint64_t link_events = 0;
  // From the last link event that changed the fast path's devices to the daemon's last
  // commit.
  double last_commit_after_last_event_ms = 0;
  double burst_ms = 0;  // from the start of `ip -batch` to that last change
  int commits = 0;
  std::size_t errors = 0;
  std::vector<std::string> error_lines;
  std::size_t flowtable_devices = 0;
  std::uint64_t monitor_overruns = 0;
};

std::size_t flowtable_device_count(const FlowtableTopology& topology) {
  const std::string listed =
      topology.node().run({"nft", "list", "table", "ip", "flannel-nftd-ipv4"});
  // Plain string search: libstdc++'s std::regex gives up on lists this long.
  const std::size_t open = listed.find("devices = { ");
  const std::size_t close = open == std::string::npos ? open : listed.find(" }", open);
  if (close == std::string::npos) return 0;
  return static_cast<std::size_t>(std::count(listed.begin() + static_cast<std::ptrdiff_t>(open),
                                             listed.begin() + static_cast<std::ptrdiff_t>(close),
                                             ',')) +
         1;
}

std::vector<BurstResult> measure_burst(Bench& bench, const Options& options) {
  std::filesystem::path log;
  auto daemon = bench.start_daemon(/*fast_path=*/true, &log);
  const auto& topology = bench.topology();
  const NamedNamespace pods("fnft-bench-" + std::to_string(::getpid()) + "-pods");
  std::string create, remove;
  for (int i = 0; i < options.burst; ++i) {
    const std::string veth = "vb" + std::to_string(i);
    create += "link add " + veth + " type veth peer name p" + std::to_string(i) + " netns " +
              pods.name() + "\nlink set " + veth + " master cni0 up\n";
    remove += "link del " + veth + "\n";
  }
  std::vector<BurstResult> results;
  for (const auto& [phase, batch] :
       {std::pair<std::string, std::string>{"create " + std::to_string(options.burst) + " veths",
                                            create},
        {"delete them", remove}}) {
    std::unique_ptr<LinkEventMonitor> links;
    std::unique_ptr<GenerationMonitor> commits;
    {
      const InsideNamespace inside(topology.node());
      const netlink::LinkWatcher now;
      links = std::make_unique<LinkEventMonitor>(now.default_routes());
      commits = std::make_unique<GenerationMonitor>();
    }
    const auto log_from = log_size(log);
    const auto started = Clock::now();
    topology.node().run({"ip", "-batch", "-"}, batch);
    // Quiet for a second: the burst and the daemon's answer to it are over.
    std::optional<Clock::time_point> last_commit;
    int count = 0;
    auto quiet_since = Clock::now();
    std::uint64_t seen_events = links->events();
    while (Clock::now() - quiet_since < std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      bool moved = links->events() != seen_events;
      seen_events = links->events();
      commits->drain([&](const GenerationEvent& event) {
        if (event.pid != static_cast<std::uint32_t>(daemon->pid())) return;
        ++count;
        last_commit = event.received;
        moved = true;
      });
      if (moved) quiet_since = Clock::now();
    }
    BurstResult result;
    result.phase = phase;
    result.link_events = links->events();
    result.commits = count;
    result.monitor_overruns = links->overruns() + commits->overruns();
    const auto last_event = links->last_device_set_change();
    if (last_event) {
      result.burst_ms = std::chrono::duration<double, std::milli>(*last_event - started).count();
    }
    if (last_event && last_commit) {
      result.last_commit_after_last_event_ms =
          std::chrono::duration<double, std::milli>(*last_commit - *last_event).count();
    }
    const std::string appended = Bench::read(log).substr(log_from);
    // Any warning or error, and any failed apply, counts.
    std::istringstream lines(appended);
    for (std::string line; std::getline(lines, line);) {
      for (const char* needle : {" error ", " warning ", "failed", "could not"}) {
        if (line.find(needle) != std::string::npos) {
          ++result.errors;
          if (result.error_lines.size() < 10) result.error_lines.push_back(line);
          break;
        }
      }
    }
    result.flowtable_devices = flowtable_device_count(topology);
    results.push_back(result);
  }
  daemon->stop();
  topology.node().run({options.daemon, "cleanup", "--mode=nftables"});
  return results;
}

int run(const Options& options) {
  if (::geteuid() != 0) throw std::runtime_error("needs root (it creates network namespaces)");
  if (!kernel_has_flowtables()) {
    throw std::runtime_error(
        "this kernel has no flowtables (CONFIG_NF_FLOW_TABLE); run the benchmark under the "
        "project's test kernel: netns-tests/kernel/uml.sh run build/bench/flowtable");
  }
  const MachineInfo machine = machine_info();
  Bench bench(options);
  std::string device_list;
  for (const auto& device : bench.devices())
    device_list += (device_list.empty() ? "" : ", ") + device;
  std::cout << "flowtable devices (as the daemon picks them): " << device_list << "\n";

  // Each metric's samples, by setup, round after round.
  struct Metric {
    std::string name;  // column heading
    std::string key;   // in flowtable.json
    double scale;      // printed value = sample / scale
    std::function<double()> measure;
    std::map<Setup, std::vector<double>> samples;
  };
  std::vector<Metric> metrics = {
      {"pktgen 64 B pod->remote pod (kpps)",
       "pktgen_remote_fps",
       1000,
       [&] { return bench.pktgen_frames_per_second(/*to_remote=*/true); },
       {}},
      {"pktgen 64 B pod->outside (kpps)",
       "pktgen_outside_fps",
       1000,
       [&] { return bench.pktgen_frames_per_second(/*to_remote=*/false); },
       {}},
      {"TCP pod->remote pod (Mbit/s)",
       "tcp_remote_mbits",
       1,
       [&] { return bench.tcp_mbits(bench.topology().remote(), FlowtableTopology::kRemotePod); },
       {}},
      {"TCP pod->outside (Mbit/s)",
       "tcp_outside_mbits",
       1,
       [&] { return bench.tcp_mbits(bench.topology().outside(), FlowtableTopology::kOutside); },
       {}},
  };
  for (int round = 0; round < options.rounds; ++round) {
    std::vector<Setup> order(std::begin(kSetups), std::end(kSetups));
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    for (const Setup setup : order) {
      bench.with(setup, [&] {
        for (auto& metric : metrics) metric.samples[setup].push_back(metric.measure());
      });
      std::cout << "round " << round + 1 << ", " << name_of(setup) << ":";
      for (const auto& metric : metrics) {
        std::cout << " " << fixed(metric.samples.at(setup).back() / metric.scale, 0);
      }
      std::cout << "\n" << std::flush;
    }
  }

  std::vector<std::string> header = {"setup"};
  for (const auto& metric : metrics) header.push_back(metric.name);
  MarkdownTable table(header);
  nlohmann::json json;
  const auto median = [](const Metric& metric, Setup setup) {
    const auto found = metric.samples.find(setup);
    return found == metric.samples.end() ? 0.0 : summarize(found->second).median;
  };
  for (const Setup setup : kSetups) {
    std::vector<std::string> row = {name_of(setup)};
    for (const auto& metric : metrics) {
      row.push_back(fixed(median(metric, setup) / metric.scale, 0));
      if (metric.samples.count(setup) != 0)
        json["setups"][name_of(setup)][metric.key] = metric.samples.at(setup);
    }
    table.add_row(row);
  }
  header[0] = "ratio of medians";
  MarkdownTable ratios(header);
  for (const auto& [with, without] : {std::pair{Setup::daemon_fast_path, Setup::daemon},
                                      std::pair{Setup::bare_flowtable, Setup::no_rules}}) {
    std::vector<std::string> row = {name_of(with) + " / " + name_of(without)};
    for (const auto& metric : metrics) {
      const double ratio = median(metric, with) / median(metric, without);
      row.push_back(fixed(ratio, 2) + "x");
      json["ratios"][name_of(with) + " / " + name_of(without)][metric.key] = ratio;
    }
    ratios.add_row(row);
  }

  const auto bursts = measure_burst(bench, options);
  MarkdownTable burst({"burst", "link events", "burst took (ms)", "daemon commits",
                       "last commit after last link event (ms)", "flowtable devices after",
                       "errors in the daemon's log"});
  for (const auto& result : bursts) {
    burst.add_row({result.phase, std::to_string(result.link_events), fixed(result.burst_ms, 0),
                   std::to_string(result.commits),
                   result.commits == 0 || result.last_commit_after_last_event_ms < 0
                       ? "(none needed: " + fixed(-result.last_commit_after_last_event_ms, 0) +
                             " ms before; the kernel unbinds deleted devices itself)"
                       : fixed(result.last_commit_after_last_event_ms, 1),
                   std::to_string(result.flowtable_devices), std::to_string(result.errors)});
    json["bursts"].push_back(
        {{"phase", result.phase},
         {"link_events", result.link_events},
         {"burst_ms", result.burst_ms},
         {"commits", result.commits},
         {"last_commit_after_last_event_ms", result.last_commit_after_last_event_ms},
         {"flowtable_devices", result.flowtable_devices},
         {"errors", result.errors},
         {"error_lines", result.error_lines},
         {"monitor_overruns", result.monitor_overruns}});
  }

  std::ostringstream report;
  report
      << "# bench/flowtable\n\n"
      << describe(machine) << "\n"
      << "Medians of " << options.rounds << " rounds (setups in alternating order); pktgen "
      << options.frames << " frames of 64 bytes per run; iperf3 " << options.tcp_seconds
      << " s per run with GSO, TSO and GRO off. Flowtable devices: " << device_list << ".\n\n"
      << table.text() << "\n"
      << ratios.text() << "\n"
      << "Device-set convergence with --flowtable (a flowtable holds at most "
      << state::kMaxFlowtableDevices
      << " devices; the rest use cni0). Link events: RTM_NEWLINK/RTM_DELLINK of the links "
         "themselves; the last change is the last link event after which the devices the "
         "daemon should bind were not the same (what state::fast_path_devices makes of the "
         "links seen). A deleted device leaves the flowtable by itself (the kernel unbinds it), so "
         "a burst of deletions may need no commit at all:\n\n"
      << burst.text();
  for (const auto& result : bursts) {
    for (const auto& line : result.error_lines) report << "\n    " << result.phase << ": " << line;
  }
  std::cout << "\n" << report.str();
  json["machine"] = {{"kernel", machine.kernel}, {"cpus", machine.cpus}, {"date", machine.date}};
  write_result_file(options.results_dir / "flowtable.md", report.str());
  write_result_file(options.results_dir / "flowtable.json", json.dump(2) + "\n");
  return 0;
}

}  // namespace
}  // namespace fnft::bench

int main(int argc, char** argv) {
  fnft::bench::Options options;
  po::options_description description(
      "Usage: flowtable [options]  (root, on a kernel with flowtables: "
      "netns-tests/kernel/uml.sh run build/bench/flowtable)");
  // clang-format off
  description.add_options()
      ("rounds", po::value(&options.rounds)->default_value(5), "rounds of all four setups")
      ("frames", po::value(&options.frames)->default_value(300000), "pktgen frames per run")
      ("tcp-seconds", po::value(&options.tcp_seconds)->default_value(3), "iperf3 seconds per run")
      ("burst", po::value(&options.burst)->default_value(1000), "veths in the burst")
      ("daemon", po::value(&options.daemon)->default_value(options.daemon), "flannel-nftd binary")
      ("results-dir", po::value(&options.results_dir)->default_value(options.results_dir),
       "where flowtable.md and flowtable.json go")
      ("help,h", "show this help");
  // clang-format on
  return fnft::bench::bench_main(argc, argv, description, "flowtable bench",
                                 [&] { return fnft::bench::run(options); });
}
