// The iptables tools of each backend and family, and what the kernel says about the legacy
// tables without loading anything.
#pragma once

#include <string>
#include <vector>

#include "daemon/process/child_spawn.hpp"
#include "state/cidr.hpp"
#include "state/iptables_variant.hpp"

namespace fnft::daemon {

struct IptablesTools {
  std::string save;     // "iptables-nft-save"
  std::string restore;  // "iptables-nft-restore"
};

IptablesTools iptables_tools(state::IptablesVariant backend, state::Family family);

// The argv of one restore transaction: --noflush (only what the payload names changes),
// --wait (the xtables lock that iptables-legacy tools share).
std::vector<std::string> restore_command(const IptablesTools& tools);

enum class LegacyTables { none, some, unknown };

// Whether the kernel's legacy x_tables of `family` hold any table: /proc/net/ip_tables_names
// is absent when the module is not loaded and empty when no table exists, so nothing is
// loaded just to find nothing. It is mode 0440 root: a daemon running as a dynamic user
// cannot read it, which says nothing about what the tables hold (`why` says so).
LegacyTables legacy_tables(state::Family family, std::string& why);

// A tool that failed, in words, with what to do when the reason is a known one.
std::string tool_failure(const std::vector<std::string>& argv, const ChildResult& result);

}  // namespace fnft::daemon
