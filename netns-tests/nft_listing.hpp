// What the tests compare listings of `nft list ruleset` by: their meaning, not their counters.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace fnft::netns_test {

// `nft list ruleset` (or one table) with counter values zeroed, so listings compare by
// meaning: same tables, chains, rules and comments in the same order.
std::string normalized_listing(const std::string& nft_listing);

// Loads `nft_text` with `nft -f` into a fresh empty namespace and returns its normalized
// `nft list ruleset`: what the kernel makes of the desired ruleset, to compare against.
std::string reference_listing(const std::string& nft_text);

// Where `devices = { a, b, ... }` of a flowtable is in an nft listing, from `from` on: the
// names (in the listing's order) and the range [begin, end) of the whole clause; nullopt when
// there is none. Plain string search: libstdc++'s std::regex gives up on lists this long.
struct DeviceClause {
  std::vector<std::string> names;
  std::size_t begin = 0;
  std::size_t end = 0;
};
std::optional<DeviceClause> find_device_clause(const std::string& listing, std::size_t from = 0);

}  // namespace fnft::netns_test
