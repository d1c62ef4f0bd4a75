// bench/apply: what it costs to put flannel's whole dual-stack ruleset into a kernel that does
// not hold it yet, in process (one libnftnl batch on a long-lived socket) and the ways the
// other systems do it (a process running `nft -f -` or `iptables-restore` per change).
//
// Runs in a private network namespace of its own; prints a table and writes
// bench/results/apply.md and apply.json. Not a test: it asserts nothing about the numbers.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/apply_methods.hpp"
#include "bench/bench_config.hpp"
#include "bench/bench_main.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "daemon/process/child_process.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_table_sync.hpp"
#include "state/desired_ruleset.hpp"
#include "testkit/network_namespace.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int iterations = 200;
  std::vector<std::string> methods;  // ids; empty: all
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

std::string ms(double value) {
  return fixed(value, 3);
}

std::vector<ApplyMethod> selected(std::vector<ApplyMethod> all, const Options& options) {
  if (options.methods.empty()) return all;
  std::vector<ApplyMethod> chosen;
  for (const auto& id : options.methods) {
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const ApplyMethod& method) { return method.id == id; });
    if (it == all.end()) throw std::invalid_argument("--methods: no method \"" + id + "\" here");
    chosen.push_back(*it);
  }
  // The ratio column is relative to the in-process apply, so it always runs, first.
  if (chosen.front().id != "in-process") chosen.insert(chosen.begin(), all.front());
  return chosen;
}

int run(const Options& options) {
  std::signal(SIGPIPE, SIG_IGN);  // a child may die of it; we must not
  const MachineInfo machine = machine_info();
  testkit::enter_private_network_namespace();

  netlink::NfnlSocket socket;
  netlink::NftTableSync backend(socket);
  const state::NodeConfig config = dual_stack_config();
  const ApplyInputs inputs{socket, backend, config, state::desired_nft_ruleset(config)};
  std::vector<std::string> skipped;
  std::vector<ApplyMethod> methods = selected(apply_methods(inputs, skipped), options);
  for (const auto& line : skipped) std::cerr << line << "\n";

  // Warm-up (not counted): loads the kernel modules and the tools' pages, and checks that
  // `nft -f` loads exactly what the in-process path would apply, so the methods compare
  // equal work.
  for (auto& method : methods) {
    method.prepare();
    method.run();
    if (method.loads_nft_text && backend.apply(inputs.desired).committed) {
      throw std::runtime_error("`" + method.name +
                               "` loaded something other than the desired ruleset");
    }
    method.teardown();
  }

  std::cout << "bench/apply: " << options.iterations << " iterations of " << methods.size()
            << " methods, interleaved, in a private network namespace\n";
  // Interleaved: every iteration runs each method once, so a noisy neighbour on the shared
  // machine hits all methods alike instead of whichever happened to run then.
  std::vector<std::vector<double>> samples_ms(methods.size());
  const auto started = Clock::now();
  for (int i = 0; i < options.iterations; ++i) {
    for (std::size_t m = 0; m < methods.size(); ++m) {
      methods[m].prepare();
      wait_for_deferred_nftables_work();
      const auto begin = Clock::now();
      methods[m].run();
      const auto end = Clock::now();
      methods[m].teardown();
      samples_ms[m].push_back(std::chrono::duration<double, std::milli>(end - begin).count());
    }
  }
  const double wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  const Summary baseline = summarize(samples_ms.front());
  MarkdownTable table({"method", "median ms", "p90 ms", "min ms", "median / in-process"});
  nlohmann::json json;
  json["machine"] = {{"date", machine.date},           {"cpus", machine.cpus},
                     {"cpu_model", machine.cpu_model}, {"kernel", machine.kernel},
                     {"loadavg_start", machine.load},  {"loadavg_end", machine_info().load}};
  json["iterations"] = options.iterations;
  json["wall_seconds"] = wall_seconds;
  std::string notes;
  for (std::size_t m = 0; m < methods.size(); ++m) {
    const Summary summary = summarize(samples_ms[m]);
    const double ratio = summary.median / baseline.median;
    table.add_row({methods[m].name, ms(summary.median), ms(summary.p90), ms(summary.min),
                   fixed(ratio, 1) + "x"});
    json["methods"].push_back({{"id", methods[m].id},
                               {"name", methods[m].name},
                               {"how", methods[m].how},
                               {"median_ms", summary.median},
                               {"p90_ms", summary.p90},
                               {"p99_ms", summary.p99},
                               {"min_ms", summary.min},
                               {"max_ms", summary.max},
                               {"ratio_to_in_process", ratio}});
    notes += "- " + methods[m].name + ": " + methods[m].how + "\n";
  }
  json["skipped"] = skipped;
  for (const auto& line : skipped) notes += "- " + line + "\n";

  std::ostringstream markdown;
  markdown << "# bench/apply\n\n"
           << describe(machine) << "- /proc/loadavg at the end: " << machine_info().load << "\n"
           << "- iterations: " << options.iterations
           << " per method (after one warm-up run each), methods interleaved\n"
           << "- wall time: " << fixed(wall_seconds, 1) << " s\n\n"
           << table.text() << "\n"
           << notes;

  std::cout << "\n" << table.text() << "\n";
  for (const auto& line : skipped) std::cout << line << "\n";
  write_result_file(options.results_dir / "apply.md", markdown.str());
  write_result_file(options.results_dir / "apply.json", json.dump(2) + "\n");
  return 0;
}

}  // namespace
}  // namespace fnft::bench

int main(int argc, char** argv) {
  fnft::bench::Options options;
  po::options_description description(
      "Usage: apply_bench [options]  (root: runs in a private network namespace)");
  description.add_options()("iterations", po::value(&options.iterations)->default_value(200),
                            "timed runs per method")(
      "methods", po::value(&options.methods)->multitoken(),
      "only these (in-process reapply nft-transaction nft-resync nft-tables apply-command "
      "iptables-nft "
      "iptables-legacy); in-process always runs, as the ratios' base")(
      "results-dir", po::value(&options.results_dir)->default_value(options.results_dir),
      "where apply.md and apply.json go")("help,h", "show this help");
  return fnft::bench::bench_main(argc, argv, description, "apply_bench", [&] {
    if (options.iterations < 1) throw std::invalid_argument("--iterations must be at least 1");
    return fnft::bench::run(options);
  });
}
