// Reading what flannel-nftd logged (its stdout and stderr in a file): the lines of a kind,
// the repairs it reported, what a phase appended.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fnft::testkit {

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_containing(const std::string& text, const std::string& needle);

// The current size of `log`, to read only what a phase appended.
std::uintmax_t log_size(const std::filesystem::path& log);

// X of every "repaired after ... committed in X us" line from byte `from` on: the daemon's
// own dump + plan + commit of each repair (--log-level info).
std::vector<double> repair_commit_micros(const std::filesystem::path& log, std::uintmax_t from);

// Every line logged at level warning or above (spdlog's "warning", "error", "critical").
std::vector<std::string> warnings_and_errors(const std::filesystem::path& log);

}  // namespace fnft::testkit
