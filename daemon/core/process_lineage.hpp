// Who started a process, read from /proc while it still exists: a commit's NEWGEN names the
// committing process (`nft`, `iptables`), and its parent says whose command it ran
// (flanneld's). Best effort: a process that has exited and been reaped has no entry left.
#pragma once

#include <cstdint>

#include "state/neighbours.hpp"

namespace fnft::daemon {

// The committer with its parent filled in where /proc still shows it.
state::Committer committer_with_parent(std::uint32_t pid, const std::string& name);

}  // namespace fnft::daemon
