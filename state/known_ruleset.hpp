// What the daemon knows the kernel holds between two reads of it: the last dump, kept
// current from the deletions the event stream reports, so that a repair can be planned the
// moment a foreign commit's NEWGEN arrives, without first reading the tables back.
#pragma once

#include <cstdint>
#include <string>

#include "state/ruleset.hpp"

namespace fnft::state {

// One object an event says is gone from one of our tables.
struct Deletion {
  enum class Kind : std::uint8_t { rule, chain, table };
  Kind kind = Kind::rule;
  Family family = Family::ipv4;
  std::string table;
  std::string chain;         // rule, chain
  std::uint64_t handle = 0;  // rule
  friend bool operator==(const Deletion&, const Deletion&) = default;
};

// Removes what `deletion` names from `ruleset` (a chain or a table must be empty by then, as
// the kernel reports their rules' deletions first). False when `ruleset` does not hold it:
// the events and what we read disagree, and `ruleset` is no longer to be trusted.
bool apply_deletion(Ruleset& ruleset, const Deletion& deletion);

// The generation after `generation`: the kernel's counter skips 0 when it wraps.
std::uint32_t next_generation(std::uint32_t generation);
// Whether `generation` is `reference` or older, across a wrap.
bool not_newer(std::uint32_t generation, std::uint32_t reference);

}  // namespace fnft::state
