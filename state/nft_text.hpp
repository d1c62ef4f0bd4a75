// Prints rulesets in nft syntax: what `flannel-nftd dump` shows, what `nft -f` loads, and
// what a failing test prints as its diff.
#pragma once

#include <string>

#include "state/ruleset.hpp"

namespace fnft::state {

std::string to_nft_text(const Ruleset& ruleset);
std::string to_nft_text(const Table& table);
// One rule as it appears inside its chain block, e.g.
// `ip saddr 10.244.0.0/16 counter accept comment "..."`.
std::string to_nft_text(const Rule& rule, Family family);
// `nat hook postrouting priority srcnat` uses the names nft itself prints.
std::string priority_text(const BaseChain& base);

}  // namespace fnft::state
