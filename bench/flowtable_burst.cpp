#include "bench/flowtable_burst.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "bench/generation_monitor.hpp"
#include "bench/link_event_monitor.hpp"
#include "netlink/link_watcher.hpp"
#include "testkit/daemon_log.hpp"
#include "testkit/network_namespace.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_from(const std::filesystem::path& file, std::uintmax_t from) {
  std::ifstream in(file);
  in.seekg(static_cast<std::streamoff>(from));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Any warning or error, and any failed apply, counts.
void count_errors(const std::string& log, BurstResult& result) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    for (const char* needle : {" error ", " warning ", "failed", "could not"}) {
      if (line.find(needle) != std::string::npos) {
        ++result.errors;
        if (result.error_lines.size() < 10) result.error_lines.push_back(line);
        break;
      }
    }
  }
}

}  // namespace

std::vector<BurstResult> measure_burst(FlowtableNode& node, int veths) {
  std::filesystem::path log;
  auto daemon = node.start_daemon(/*fast_path=*/true, &log);
  const testkit::FlannelNode& topology = node.node();
  const testkit::Namespace pods(testkit::unique_prefix() + "pods");
  std::string create, remove;
  for (int i = 0; i < veths; ++i) {
    const std::string veth = "vb" + std::to_string(i);
    create += "link add " + veth + " type veth peer name p" + std::to_string(i) + " netns " +
              pods.name() + "\nlink set " + veth + " master cni0 up\n";
    remove += "link del " + veth + "\n";
  }
  std::vector<BurstResult> results;
  for (const auto& [phase, batch] :
       {std::pair<std::string, std::string>{"create " + std::to_string(veths) + " veths", create},
        {"delete them", remove}}) {
    std::unique_ptr<LinkEventMonitor> links;
    std::unique_ptr<GenerationMonitor> commits;
    {
      const testkit::InNamespace inside(topology.node());
      const netlink::LinkWatcher now;
      links = std::make_unique<LinkEventMonitor>(now.default_routes());
      commits = std::make_unique<GenerationMonitor>();
    }
    const auto log_from = testkit::log_size(log);
    const auto started = Clock::now();
    topology.run_in_checked(topology.node(), {"ip", "-batch", "-"}, batch,
                            std::chrono::seconds(120));
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
    count_errors(read_from(log, log_from), result);
    result.flowtable_devices = node.flowtable_device_count();
    results.push_back(result);
  }
  daemon->stop();
  node.cleanup_daemon_rules();
  return results;
}

}  // namespace fnft::bench
