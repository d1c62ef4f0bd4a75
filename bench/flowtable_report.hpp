// bench/flowtable's results: medians of each metric by setup, the ratios that say what the
// fast path buys, and the burst, as markdown (printed, and flowtable.md) and JSON
// (flowtable.json).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench/flowtable_burst.hpp"
#include "bench/flowtable_node.hpp"
#include "bench/report.hpp"

namespace fnft::bench {

// One metric's samples, by setup, round after round.
struct MetricSamples {
  std::string name;  // column heading
  std::string key;   // in flowtable.json
  double scale;      // printed value = sample / scale
  std::map<Setup, std::vector<double>> samples;
};

struct FlowtableRun {
  MachineInfo machine;
  int rounds = 0;
  long frames = 0;
  int tcp_seconds = 0;
  std::vector<std::string> devices;
  std::vector<MetricSamples> metrics;
  std::vector<BurstResult> bursts;
};

// Prints the report and writes flowtable.md and flowtable.json to `results_dir`.
void report_flowtable_run(const FlowtableRun& run, const std::filesystem::path& results_dir);

}  // namespace fnft::bench
