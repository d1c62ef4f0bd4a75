#include "bench/report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace fnft::bench {
namespace {

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  return "unknown";
}

}  // namespace

MachineInfo machine_info() {
  MachineInfo machine;
  machine.cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  utsname names{};
  if (::uname(&names) == 0) machine.kernel = names.release;
  machine.cpu_model = cpu_model();
  machine.load = first_line_of("/proc/loadavg");
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  machine.date = text;
  return machine;
}

std::string describe(const MachineInfo& machine) {
  std::ostringstream out;
  out << "- date: " << machine.date << "\n"
      << "- CPUs (nproc): " << machine.cpus << "\n"
      << "- CPU: " << machine.cpu_model << "\n"
      << "- kernel (uname -r): " << machine.kernel << "\n"
      << "- /proc/loadavg at start: " << machine.load << "\n";
  return out.str();
}

std::string MarkdownTable::text() const {
  std::vector<std::size_t> widths(header_.size(), 3);
  const auto measure = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], cells[i].size());
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text = "|";
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      // The first column is text, the others numbers: numbers align right.
      const std::string pad(widths[i] - cell.size(), ' ');
      text += " " + (i == 0 ? cell + pad : pad + cell) + " |";
    }
    return text + "\n";
  };
  std::string text = line(header_);
  text += "|";
  for (std::size_t i = 0; i < widths.size(); ++i) {
    text += i == 0 ? " " + std::string(widths[i], '-') + " |"
                   : " " + std::string(widths[i] - 1, '-') + ": |";
  }
  text += "\n";
  for (const auto& row : rows_) text += line(row);
  return text;
}

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << value;
  return out.str();
}

void write_result_file(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  std::cout << "wrote " << file.string() << "\n";
}

}  // namespace fnft::bench
