// What the kernel does with one batch of operations, as a pure function on a Ruleset: the
// twin the plans are checked against without a kernel (tests/ruleset_apply_test.cpp applies
// every plan to the state it was made from and asks for a plan again).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

struct BatchRefusal {
  int error = 0;     // the errno the kernel answers with
  std::string text;  // "delete chain ip t c: EBUSY (the chain still holds rules)"
};

// Applies `operations` to `ruleset` in order, all or nothing, as nf_tables checks each
// message against what the earlier ones left. Returns the refusal the kernel would give and
// leaves `ruleset` untouched; nullopt when the batch applied. New rules get handles above
// every handle in their table, as the kernel's per-table counter gives them.
std::optional<BatchRefusal> apply_operations(Ruleset& ruleset,
                                             const std::vector<NftOperation>& operations);

}  // namespace fnft::state
