// What a sync of our tables commits beyond the chains and rules plan_nft_changes handles:
// tables another process owns are left out, tables holding what the model lacks are
// replaced, and every protection change is explained for the log. Pure: the dump and the
// batches are netlink/nft_table_sync.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

// An owned table holding what Table cannot express, e.g. upstream flanneld's table comment,
// `flags dormant` (someone switched our rules off), or sets and flowtables.
struct UnmodeledTable {
  Family family = Family::ipv4;
  std::string name;
  std::vector<std::string> properties;  // in nft syntax: "flags dormant", "2 sets, maps, ..."
  // `flags owner`: the netlink port of the socket that owns it; only that socket may change
  // or delete the table, which vanishes when that socket closes.
  std::optional<std::uint32_t> owner_portid;
  friend bool operator==(const UnmodeledTable&, const UnmodeledTable&) = default;
};

// Our tables as a dump found them, and the part of them a plan may touch.
struct PlannableTables {
  Ruleset observed;
  std::vector<UnmodeledTable> unmodeled;
  std::vector<OwnedTable> scope;
  // Tables another process owns (`flags owner`): the kernel refuses any change to them, so
  // they are in none of the above and each is one failure of its own.
  std::vector<UnmodeledTable> owned_elsewhere;
};

// Takes out of `observed`, `unmodeled` and `scope` every table whose owner is a socket other
// than ours (`own_portid`): the other tables are planned as if they were not there.
PlannableTables leave_out_tables_owned_elsewhere(Ruleset observed,
                                                 std::vector<UnmodeledTable> unmodeled,
                                                 std::vector<OwnedTable> scope,
                                                 std::uint32_t own_portid);

struct TableSyncPlan {
  std::vector<NftOperation> operations;
  // Why the plan does more than plan_nft_changes asked for, one line each (a table
  // re-created for its comment, a table taken back from an owner that exited).
  std::vector<std::string> notes;
};

// The operations that make the tables of `tables.scope` what `desired` says: an unmodeled
// table the config wants is deleted and re-created in the same batch (packets see one
// switch; the kernel cannot drop a table comment or sets in place), then plan_nft_changes.
// `devices_as_found` are devices going away, which the kernel refuses both to bind and to
// unbind once their name is gone (while it still lists them until it unbinds them itself):
// each flowtable keeps them as the dump found them.
TableSyncPlan plan_table_sync(const Ruleset& desired, const PlannableTables& tables,
                              const std::vector<std::string>& devices_as_found = {});

// `desired` with every flowtable's `devices` as `observed` holds them, bound or not.
Ruleset with_devices_as_found(Ruleset desired, const Ruleset& observed,
                              const std::vector<std::string>& devices);

// Every table of `observed` deleted (`cleanup`).
std::vector<NftOperation> plan_tables_removal(const Ruleset& observed);

}  // namespace fnft::state
