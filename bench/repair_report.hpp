// The repair benchmark's results as text: a terminal summary, bench/results/repair.md and
// repair.json, all from the same numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/churn.hpp"
#include "bench/repair_latency.hpp"
#include "bench/report.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {

struct RepairRun {
  MachineInfo machine;
  std::string load_at_end;
  std::string daemon_command;
  RepairSettings settings;
  int reference_iterations = 0;
  int nice = 0;
  std::string daemon_log_level;
  bool unlimited_budget = false;
  double repair_seconds = 0;
  std::vector<RepairSamples> latency;              // the mutations, then the nft reference
  std::vector<std::vector<double>> daemon_micros;  // per mutation: the daemon's logged time
  std::vector<ChurnResult> cpu;
  testkit::Memory memory;
  std::uint64_t monitor_overruns = 0;
  std::string daemon_exit;
  std::size_t log_lines = 0;
  std::vector<std::string> complaints;  // the daemon's warnings and errors
};

struct RepairReport {
  std::string terminal;
  std::string markdown;
  std::string json;
};

RepairReport make_report(const RepairRun& run);

}  // namespace fnft::bench
