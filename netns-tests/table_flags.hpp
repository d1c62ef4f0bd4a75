// A table's flags as the kernel holds them (`nft list` of Debian 12's nft 1.0.6 cannot name
// `persist`): for the tests of --protect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fnft::netns_test {

struct TableFlags {
  bool owner = false;    // NFT_TABLE_F_OWNER
  bool persist = false;  // NFT_TABLE_F_PERSIST
  std::optional<std::uint32_t> owner_portid;
};

// `family`: "ip" or "ip6". nullopt when the table does not exist in namespace `ns`.
std::optional<TableFlags> table_flags(const std::string& ns, const std::string& family,
                                      const std::string& table);

// Whether the running kernel has `flags owner, persist` (6.9+), asked in a scratch namespace
// the way the daemon asks.
bool kernel_has_table_protection();

}  // namespace fnft::netns_test
