#include "daemon/iptables_mode_cleanup.hpp"

#include <array>
#include <cerrno>
#include <fstream>
#include <system_error>

#include "daemon/child_process.hpp"
#include "state/iptables_cleanup.hpp"

namespace fnft::daemon {
namespace {

struct IptablesTool {
  const char* name;  // for messages
  const char* save;
  const char* restore;
  // Legacy x_tables: where the kernel lists its loaded tables. Running the legacy tools
  // without them would load the modules just to find nothing, so we look first.
  const char* legacy_tables = nullptr;
};

constexpr std::array kTools = {
    IptablesTool{"iptables-nft", "iptables-nft-save", "iptables-nft-restore"},
    IptablesTool{"ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore"},
    IptablesTool{"iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore",
                 "/proc/net/ip_tables_names"},
    IptablesTool{"ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore",
                 "/proc/net/ip6_tables_names"},
};

bool has_legacy_tables(const char* path) {
  std::ifstream names(path);
  std::string first;
  return names && std::getline(names, first) && !first.empty();
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

void clean_with(const IptablesTool& tool, IptablesModeCleanup& report) {
  if (tool.legacy_tables != nullptr && !has_legacy_tables(tool.legacy_tables)) return;
  ChildResult saved;
  try {
    saved = run_child({tool.save}, {});
  } catch (const std::system_error& error) {
    if (error.code().value() == ENOENT) return;  // that back end is not installed
    report.problems.push_back(std::string(tool.save) + ": " + error.what());
    return;
  }
  if (saved.exit_code != 0) {
    report.problems.push_back(std::string(tool.save) + " failed: " + first_line(saved.err));
    return;
  }
  const auto plan = state::plan_iptables_cleanup(saved.out);
  if (plan.restore_payload.empty()) return;
  const ChildResult restored =
      run_child({tool.restore, "--noflush", "--wait"}, plan.restore_payload);
  if (restored.exit_code != 0) {
    report.problems.push_back(std::string(tool.restore) + " failed: " + first_line(restored.err));
    return;
  }
  for (const auto& line : plan.removed)
    report.removed.push_back(std::string(tool.name) + ": " + line);
}

}  // namespace

IptablesModeCleanup clean_iptables_mode() {
  IptablesModeCleanup report;
  for (const auto& tool : kTools) clean_with(tool, report);
  return report;
}

}  // namespace fnft::daemon
