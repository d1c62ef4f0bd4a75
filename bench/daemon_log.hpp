// The daemon's own account of each repair: at --log-level info it logs
// "repaired after <why>: N change(s) committed in X us (generation A -> B)", X being its
// dump + plan + commit. Read back, it splits the measured latency into the daemon's work and
// everything before it (event delivery, wake-up, waiting for a CPU).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fnft::bench {

// The current size of `log`, to read only what a phase appended.
std::uintmax_t log_size(const std::filesystem::path& log);

// X of every "repaired after ... committed in X us" line from byte `from` on.
std::vector<double> repair_commit_micros(const std::filesystem::path& log, std::uintmax_t from);

// Every line the daemon logged at level warning or above (spdlog's "warning", "error",
// "critical"): a benchmark run should produce none.
std::vector<std::string> warnings_and_errors(const std::filesystem::path& log);

}  // namespace fnft::bench
