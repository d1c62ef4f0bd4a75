// What the benchmarks print and write: the machine they ran on and markdown tables, the same
// text on stdout and in bench/results/*.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace fnft::bench {

struct MachineInfo {
  long cpus = 0;          // online CPUs (what `nproc` says)
  std::string kernel;     // `uname -r`
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string load;       // /proc/loadavg at the start: how busy the shared machine was
  std::string date;       // UTC, ISO 8601
};

MachineInfo machine_info();
// One markdown bullet list.
std::string describe(const MachineInfo& machine);

class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Columns padded so it also reads well on a terminal.
  std::string text() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// `value` with `decimals` digits after the point.
std::string fixed(double value, int decimals);

// Writes `content` to `file`, creating its directory; prints where it went.
void write_result_file(const std::filesystem::path& file, const std::string& content);

}  // namespace fnft::bench
