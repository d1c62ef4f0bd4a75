// What the daemon pays for other agents' commits that do not concern it: the benchmark
// commits rule adds and flushes to a table of its own and reads the daemon's CPU time.
#pragma once

#include <chrono>
#include <string>

#include "bench/repair_context.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {

struct ChurnResult {
  std::string name;
  int transactions = 0;
  std::chrono::microseconds gap{0};  // between our commits
  double wall_seconds = 0;
  testkit::CpuTime before;
  testkit::CpuTime after;
  int daemon_commits = 0;  // must stay 0: nothing of the daemon's was touched
  int lost_commits = 0;    // of ours, never seen by the monitor
};

// `transactions` one-message batches on `table ip bench-churn`, alternately adding a rule and
// flushing the chain, `gap` apart. The daemon's CPU time is read once it has gone quiet.
ChurnResult run_churn(const RepairContext& context, testkit::TrackedProcess& daemon,
                      const std::string& name, int transactions, std::chrono::microseconds gap);

// The daemon's CPU time over `duration` of nothing happening, for comparison.
ChurnResult measure_idle(testkit::TrackedProcess& daemon, std::chrono::milliseconds duration);

}  // namespace fnft::bench
