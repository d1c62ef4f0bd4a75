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
  // add_table: its flags. `held` on an orphaned table takes it back (the kernel lets only a
  // table's owner change it, and nobody add or drop `persist`).
  Protection protection = Protection::none;
  std::string chain;
  std::optional<BaseChain> base;  // add_chain
  Rule rule;                      // add_rule; delete_rule carries the observed rule (for messages)
  std::uint64_t handle = 0;       // delete_rule
  // add_rule: placed right after the rule with this handle, or (`first`) at the head of the
  // chain; neither: appended.
  std::optional<std::uint64_t> after;
  bool first = false;
  Flowtable flowtable;  // add_flowtable, delete_flowtable, unbind_flowtable_devices

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
//  - observed rules that are desired rules in order with only some missing (a deleted rule, a
//    flushed chain): the missing ones are put back where they belong, each after the nearest
//    rule still there, so the others keep their counters and nothing is deleted (a deletion
//    costs the kernel an RCU grace period, which slows every other process's next commit);
//  - anything else (reordered or altered rules, missing and extra ones together): flush the
//    chain and append the desired rules, which the batch makes atomic for packets;
//  - a base chain whose type, hook or priority differ is deleted and re-created;
//  - chains in our tables that we do not want are flushed and deleted;
//  - a flowtable is created when missing and gains and loses devices in place; one whose
//    priority or flags differ is replaced, and so is every chain whose rules use it (a
//    flowtable in use cannot go); flowtables we do not want go after the rules using them.
// Per table: an orphaned table we want held is taken back in place (its content planned as
// usual) when takes_back_in_place says so; any other difference of protection replaces the
// table (delete and re-create in the same batch, which packets see as one switch), since
// `persist` can be neither added to nor dropped from an existing table.
std::vector<NftOperation> plan_nft_changes(const Ruleset& desired, const Ruleset& observed,
                                           const std::vector<OwnedTable>& owned);

// Whether `have`, orphaned, is taken back as `want` without being replaced: only when `want`
// needs no base chain `have` lacks or holds otherwise. The kernel refuses a new base chain in
// a transaction that changes its table's flags (EINVAL: nf_tables_addchain while the table
// is marked __NFT_TABLE_F_UPDATE, which taking an orphan back sets), so a table someone
// emptied while it was orphaned is replaced instead, in one transaction all the same.
bool takes_back_in_place(const Table& want, const Table& have);

// One line per operation in nft command syntax, for logs and `apply` output.
std::string describe(const NftOperation& operation);

}  // namespace fnft::state
