#include "state/table_sync_plan.hpp"

#include <algorithm>
#include <iterator>

#include "state/cidr.hpp"

namespace fnft::state {
namespace {

NftOperation delete_table(Family family, const std::string& name) {
  NftOperation op;
  op.kind = NftOperation::Kind::delete_table;
  op.family = family;
  op.table = name;
  return op;
}

std::string table_text(Family family, const std::string& name) {
  return "table " + std::string(nft_family_name(family)) + " " + name;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// Why a table is claimed or replaced for its flags, for the log.
std::string protection_change_note(const Table& have, const Table& want) {
  const std::string table = table_text(have.family, have.name);
  if (takes_back_in_place(want, have)) {
    // `persist` outlives whoever set it: a flannel-nftd that was stopped or killed, or
    // another process that owned the table; the kernel keeps no trace of which.
    return table +
           " was left unowned (`flags persist`) by an owner that exited: taken back (`flags "
           "owner, persist`) with what it holds";
  }
  if (want.protection == Protection::held && have.protection == Protection::orphaned) {
    return table +
           " was left unowned (`flags persist`) by an owner that exited, without base chains "
           "it needs (the kernel adds none while taking a table back): taken over with `flags "
           "owner, persist` (deleted and re-created in the same transaction)";
  }
  if (want.protection == Protection::held) {
    return table +
           " taken over with `flags owner, persist` (deleted and re-created in the "
           "same transaction): from now on only this daemon can change it";
  }
  return table + " has `flags persist` (left by a flannel-nftd with --protect), which " +
         "--protect=off does not keep: deleted and re-created in the same transaction";
}

}  // namespace

PlannableTables leave_out_tables_owned_elsewhere(Ruleset observed,
                                                 std::vector<UnmodeledTable> unmodeled,
                                                 std::vector<OwnedTable> scope,
                                                 std::uint32_t own_portid) {
  PlannableTables tables;
  std::erase_if(unmodeled, [&](const UnmodeledTable& table) {
    if (!table.owner_portid || *table.owner_portid == own_portid) return false;
    tables.owned_elsewhere.push_back(table);
    std::erase_if(observed.tables,
                  [&](const Table& t) { return t.family == table.family && t.name == table.name; });
    std::erase(scope, OwnedTable{table.family, table.name});
    return true;
  });
  tables.observed = std::move(observed);
  tables.unmodeled = std::move(unmodeled);
  tables.scope = std::move(scope);
  return tables;
}

Ruleset with_devices_as_found(Ruleset desired, const Ruleset& observed,
                              const std::vector<std::string>& devices) {
  if (devices.empty()) return desired;
  const auto listed = [&devices](const std::string& device) {
    return std::find(devices.begin(), devices.end(), device) != devices.end();
  };
  for (auto& table : desired.tables) {
    const Table* found = observed.find_table(table.family, table.name);
    for (auto& flowtable : table.flowtables) {
      const Flowtable* held = found != nullptr ? found->find_flowtable(flowtable.name) : nullptr;
      std::erase_if(flowtable.devices, listed);
      if (held != nullptr) {
        for (const auto& device : held->devices)
          if (listed(device)) flowtable.devices.push_back(device);
      }
      std::sort(flowtable.devices.begin(), flowtable.devices.end());
    }
  }
  return desired;
}

TableSyncPlan plan_table_sync(const Ruleset& wanted, const PlannableTables& tables,
                              const std::vector<std::string>& devices_as_found) {
  const Ruleset desired = with_devices_as_found(wanted, tables.observed, devices_as_found);
  TableSyncPlan plan;
  Ruleset plannable = tables.observed;
  for (const auto& table : tables.unmodeled) {
    if (desired.find_table(table.family, table.name) == nullptr) continue;  // deleted anyway
    std::erase_if(plannable.tables,
                  [&](const Table& t) { return t.family == table.family && t.name == table.name; });
    plan.operations.push_back(delete_table(table.family, table.name));
    plan.notes.push_back(table_text(table.family, table.name) + " has " + joined(table.properties) +
                         ", which flannel-nftd does not model: deleted and re-created in the "
                         "same transaction");
  }
  for (const auto& have : plannable.tables) {
    const Table* want = desired.find_table(have.family, have.name);
    if (want == nullptr || want->protection == have.protection) continue;
    plan.notes.push_back(protection_change_note(have, *want));
  }
  auto rest = plan_nft_changes(desired, plannable, tables.scope);
  plan.operations.insert(plan.operations.end(), std::make_move_iterator(rest.begin()),
                         std::make_move_iterator(rest.end()));
  return plan;
}

std::vector<NftOperation> plan_tables_removal(const Ruleset& observed) {
  std::vector<NftOperation> deletions;
  for (const auto& table : observed.tables)
    deletions.push_back(delete_table(table.family, table.name));
  return deletions;
}

}  // namespace fnft::state
