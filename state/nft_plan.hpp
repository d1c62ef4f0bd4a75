// The difference between what the kernel holds and what we want, as the list of operations
// of ONE atomic batch. Pure: tested without a kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "state/ruleset.hpp"

namespace fnft::state {

struct NftOperation {
  enum class Kind : std::uint8_t {
    add_table,     // table (created if missing; a no-op on an existing table)
    delete_table,  // table and everything in it
    add_chain,     // chain with `base`; also updates the policy of an existing chain
    delete_chain,  // an empty chain (flushed earlier in the same batch)
    flush_chain,   // every rule of chain
    add_rule,      // append `rule` to chain
    delete_rule,   // the rule with `handle`
    // `flowtable`: created, or on an existing one the devices it lacks bound (the kernel
    // adds the ones it does not hold)
    add_flowtable,
    delete_flowtable,          // flowtable.name, no longer used by any rule
    unbind_flowtable_devices,  // flowtable.devices of flowtable.name, the rest kept
  };
  Kind kind = Kind::add_table;
  Family family = Family::ipv4;
  std::string table;
  std::string chain;
  std::optional<BaseChain> base;  // add_chain
  Rule rule;                      // add_rule; delete_rule carries the observed rule (for messages)
  std::uint64_t handle = 0;       // delete_rule
  Flowtable flowtable;            // add_flowtable, delete_flowtable, unbind_flowtable_devices

  friend bool operator==(const NftOperation&, const NftOperation&) = default;
};

// The table names this daemon owns in a family; observed tables outside this set are never
// touched, and owned tables absent from `desired` are deleted.
struct OwnedTable {
  Family family;
  std::string name;
  friend bool operator==(const OwnedTable&, const OwnedTable&) = default;
};

// `observed` holds what a dump found of the owned tables (rules with their handles).
// The plan is empty when observed == desired. Otherwise, per chain:
//  - desired rules that appear in order within the observed chain with only extra rules
//    between them (a foreign insert, a duplicate): delete the extras by handle, so the
//    remaining rules keep their counters, unless there are more than 64 of them (deleting by
//    handle is linear in the chain's length in the kernel: a flush keeps the repair linear);
//  - anything else (missing, reordered or altered rules): flush the chain and append the
//    desired rules, which the batch makes atomic for packets;
//  - a base chain whose type, hook or priority differ is deleted and re-created;
//  - chains in our tables that we do not want are flushed and deleted;
//  - a flowtable is created when missing and gains and loses devices in place; one whose
//    priority or flags differ is replaced, and so is every chain whose rules use it (a
//    flowtable in use cannot go); flowtables we do not want go after the rules using them.
std::vector<NftOperation> plan_nft_changes(const Ruleset& desired, const Ruleset& observed,
                                           const std::vector<OwnedTable>& owned);

// One line per operation in nft command syntax, for logs and `apply` output.
std::string describe(const NftOperation& operation);

}  // namespace fnft::state
