// What the plan tests share: rulesets as a dump gives them, and plans as text.
#pragma once

#include <string>
#include <vector>

#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::state::fixtures {

// Handles as a kernel dump would assign them: every rule its own.
inline Ruleset with_handles(Ruleset ruleset) {
  std::uint64_t next = 2;
  for (auto& table : ruleset.tables)
    for (auto& chain : table.chains)
      for (auto& rule : chain.rules) rule.handle = next++;
  return ruleset;
}

// One line per operation, in nft syntax, for failure messages and expectations.
inline std::vector<std::string> described(const std::vector<NftOperation>& operations) {
  std::vector<std::string> lines;
  for (const auto& operation : operations) lines.push_back(describe(operation));
  return lines;
}

inline std::string plan_text(const std::vector<NftOperation>& operations) {
  std::string text;
  for (const auto& line : described(operations)) text += line + "\n";
  return text;
}

}  // namespace fnft::state::fixtures
