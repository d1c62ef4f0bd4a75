// Fills the conntrack table of this thread's network namespace with entries that are none
// of flannel's business (172.16/12 talking to 172.31/16, answered, not NATed), so a repair's
// conntrack reset can be measured on a node whose table is busy with other traffic.
#pragma once

#include <cstdint>

namespace fnft::bench {

struct FillResult {
  std::uint64_t created = 0;
  std::uint64_t refused = 0;  // the kernel's errors (a full table says ENOMEM)
  double seconds = 0;
};

// Creates `entries` UDP entries over ctnetlink, many requests to one send, each living an
// hour. `answered` sets IPS_SEEN_REPLY (established traffic); without it every entry passes
// the kernel's status filter and reaches the daemon's judgement: the worst case. Throws when
// ctnetlink cannot be opened.
FillResult fill_conntrack_table(std::uint64_t entries, bool answered);

}  // namespace fnft::bench
