#include "daemon/process/system_programs.hpp"

#include <unistd.h>

#include <map>

namespace fnft::daemon {

std::optional<std::string> find_system_program(const std::string& name) {
  static std::map<std::string, std::optional<std::string>> found;
  if (const auto it = found.find(name); it != found.end()) return it->second;
  std::optional<std::string> path;
  if (name.find('/') == std::string::npos) {
    std::string_view directories = kSystemProgramPath;
    while (!path && !directories.empty()) {
      const auto colon = directories.find(':');
      std::string candidate(directories.substr(0, colon));
      candidate += "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) path = candidate;
      directories.remove_prefix(colon == std::string_view::npos ? directories.size() : colon + 1);
    }
  }
  found.emplace(name, path);
  return path;
}

const std::vector<std::string>& child_environment() {
  static const std::vector<std::string> environment = {
      "PATH=" + std::string(kSystemProgramPath),
      "LC_ALL=C",
  };
  return environment;
}

}  // namespace fnft::daemon
