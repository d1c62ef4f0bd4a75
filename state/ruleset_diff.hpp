// A line diff of two rulesets in nft syntax, for logs and test failure messages.
#pragma once

#include <string>

#include "state/ruleset.hpp"

namespace fnft::state {

// "" when equal; otherwise the nft text with `-` before lines only `want` has and `+` before
// lines only `have` has (the kernel's extra or altered lines).
std::string diff_text(const Ruleset& want, const Ruleset& have);

}  // namespace fnft::state
