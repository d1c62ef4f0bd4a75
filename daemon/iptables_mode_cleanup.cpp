#include "daemon/iptables_mode_cleanup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
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

enum class LegacyTables { none, some, unknown };

// Whether the kernel's legacy x_tables hold any table: the file is absent when the module is
// not loaded and empty when no table exists. The file is mode 0440 root: a daemon running as
// a dynamic user cannot read it, which says nothing about what the tables hold.
LegacyTables legacy_tables(const char* path, std::string& why_unknown) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return LegacyTables::none;
    why_unknown = std::string("cannot read ") + path + " (" + std::strerror(errno) +
                  "), so whether iptables-legacy holds flanneld's rules is unknown";
    return LegacyTables::unknown;
  }
  char first = 0;
  const ssize_t n = ::read(fd, &first, 1);
  const int read_error = errno;
  ::close(fd);
  if (n < 0) {
    why_unknown = std::string("cannot read ") + path + " (" + std::strerror(read_error) + ")";
    return LegacyTables::unknown;
  }
  return n == 0 ? LegacyTables::none : LegacyTables::some;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

void clean_with(const IptablesTool& tool, IptablesModeCleanup& report) {
  if (tool.legacy_tables != nullptr) {
    std::string why_unknown;
    switch (legacy_tables(tool.legacy_tables, why_unknown)) {
      case LegacyTables::none: return;
      case LegacyTables::some: break;
      case LegacyTables::unknown:
        report.problems.push_back(std::string(tool.name) + ": " + why_unknown);
        return;
    }
  }
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
