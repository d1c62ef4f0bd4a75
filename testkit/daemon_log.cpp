#include "testkit/daemon_log.hpp"

#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>

namespace fnft::testkit {

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

std::uintmax_t log_size(const std::filesystem::path& log) {
  std::error_code error;
  const auto size = std::filesystem::file_size(log, error);
  return error ? 0 : size;
}

std::vector<double> repair_commit_micros(const std::filesystem::path& log, std::uintmax_t from) {
  static const std::regex kRepaired(R"(repaired after .* committed in ([0-9]+) us)");
  std::ifstream in(log);
  in.seekg(static_cast<std::streamoff>(from));
  std::vector<double> micros;
  std::smatch match;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, match, kRepaired)) micros.push_back(std::stod(match[1].str()));
  }
  return micros;
}

std::vector<std::string> warnings_and_errors(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find(" warning ") != std::string::npos || line.find(" error ") != std::string::npos ||
        line.find(" critical ") != std::string::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace fnft::testkit
