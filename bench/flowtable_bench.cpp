// bench/flowtable: what --flowtable buys, forwarding through a node that runs the real
// flannel-nftd with its real ruleset, and how fast its device set follows a burst of pods.
//
// Four setups of the same node (bench/flowtable_node.hpp), measured in alternating order
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
#include <filesystem>
#include <functional>
#include <iostream>

#include "bench/bench_main.hpp"
#include "bench/flowtable_burst.hpp"
#include "bench/flowtable_node.hpp"
#include "bench/flowtable_report.hpp"
#include "bench/report.hpp"
#include "testkit/kernel_features.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

struct Options {
  std::string daemon = FNFT_DAEMON_BINARY;
  int rounds = 5;
  long frames = 300000;
  int tcp_seconds = 3;
  int burst = 1000;
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

int run(const Options& options) {
  if (::geteuid() != 0) throw std::runtime_error("needs root (it creates network namespaces)");
  if (!testkit::kernel_has_flowtables()) {
    throw std::runtime_error(
        "this kernel has no flowtables (CONFIG_NF_FLOW_TABLE); run the benchmark under the "
        "project's test kernel: netns-tests/kernel/uml.sh run build/bench/flowtable");
  }
  FlowtableRun run;
  run.machine = machine_info();
  run.rounds = options.rounds;
  run.frames = options.frames;
  run.tcp_seconds = options.tcp_seconds;
  FlowtableNode node(options.daemon, options.frames, options.tcp_seconds);
  run.devices = node.devices();
  std::cout << "flowtable devices (as the daemon picks them):";
  for (const auto& device : run.devices) std::cout << " " << device;
  std::cout << "\n";

  run.metrics = {{"pktgen 64 B pod->remote pod (kpps)", "pktgen_remote_fps", 1000, {}},
                 {"pktgen 64 B pod->outside (kpps)", "pktgen_outside_fps", 1000, {}},
                 {"TCP pod->remote pod (Mbit/s)", "tcp_remote_mbits", 1, {}},
                 {"TCP pod->outside (Mbit/s)", "tcp_outside_mbits", 1, {}}};
  const std::function<double()> measures[] = {
      [&] { return node.pktgen_frames_per_second(/*to_remote=*/true); },
      [&] { return node.pktgen_frames_per_second(/*to_remote=*/false); },
      [&] { return node.tcp_mbits(/*to_remote=*/true); },
      [&] { return node.tcp_mbits(/*to_remote=*/false); }};
  for (int round = 0; round < options.rounds; ++round) {
    std::vector<Setup> order(std::begin(kSetups), std::end(kSetups));
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    for (const Setup setup : order) {
      node.with(setup, [&] {
        for (std::size_t i = 0; i < run.metrics.size(); ++i)
          run.metrics[i].samples[setup].push_back(measures[i]());
      });
      std::cout << "round " << round + 1 << ", " << name_of(setup) << ":";
      for (const auto& metric : run.metrics) {
        std::cout << " " << fixed(metric.samples.at(setup).back() / metric.scale, 0);
      }
      std::cout << "\n" << std::flush;
    }
  }
  run.bursts = measure_burst(node, options.burst);
  report_flowtable_run(run, options.results_dir);
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
