#include "state/ruleset_apply.hpp"

#include <algorithm>
#include <cerrno>
#include <set>

namespace fnft::state {
namespace {

const char* errno_name(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    default: return "EOPNOTSUPP";
  }
}

Table* find_table(Ruleset& ruleset, Family family, const std::string& name) {
  for (auto& table : ruleset.tables)
    if (table.family == family && table.name == name) return &table;
  return nullptr;
}

Chain* find_chain(Table& table, const std::string& name) {
  for (auto& chain : table.chains)
    if (chain.name == name) return &chain;
  return nullptr;
}

Flowtable* find_flowtable(Table& table, const std::string& name) {
  for (auto& flowtable : table.flowtables)
    if (flowtable.name == name) return &flowtable;
  return nullptr;
}

std::uint64_t next_handle(const Table& table) {
  std::uint64_t highest = 1;
  for (const auto& chain : table.chains)
    for (const auto& rule : chain.rules) highest = std::max(highest, rule.handle);
  return highest + 1;
}

bool same_hook(const BaseChain& a, const BaseChain& b) {
  return a.type == b.type && a.hook == b.hook && a.priority == b.priority;
}

// Tables whose flags this batch changed: the kernel marks them __NFT_TABLE_F_UPDATE and then
// refuses a new base chain in them (nf_tables_addchain: EINVAL) until the commit.
using UpdatedTables = std::set<std::pair<Family, std::string>>;

void apply_one(Ruleset& ruleset, const NftOperation& op, UpdatedTables& updated) {
  const auto refuse = [&op](int error, const std::string& why) {
    throw BatchRefusal{error, describe(op) + ": " + errno_name(error) + " (" + why + ")"};
  };
  Table* table = find_table(ruleset, op.family, op.table);
  using Kind = NftOperation::Kind;
  if (op.kind == Kind::add_table) {
    if (table == nullptr) {
      Table created;
      created.family = op.family;
      created.name = op.table;
      created.protection = op.protection;
      ruleset.tables.push_back(std::move(created));
      return;
    }
    if (table->protection == op.protection) return;
    if (table->protection == Protection::orphaned && op.protection == Protection::held) {
      table->protection = Protection::held;  // taken back
      updated.insert({op.family, op.table});
      return;
    }
    refuse(EOPNOTSUPP, "`persist` and `owner` can be neither added to nor dropped from a table");
  }
  if (table == nullptr) refuse(ENOENT, "no such table");
  switch (op.kind) {
    case Kind::add_table: return;
    case Kind::delete_table:
      std::erase_if(ruleset.tables, [&](const Table& t) { return &t == table; });
      return;
    case Kind::add_chain: {
      Chain* chain = find_chain(*table, op.chain);
      if (chain == nullptr) {
        if (op.base && updated.contains({op.family, op.table}))
          refuse(EINVAL, "a new base chain in a table whose flags this transaction changes");
        table->chains.push_back(Chain{op.chain, op.base, {}});
        return;
      }
      if (chain->base.has_value() != op.base.has_value())
        refuse(EEXIST, "a chain of the other kind has this name");
      if (op.base) {
        if (!same_hook(*chain->base, *op.base))
          refuse(EOPNOTSUPP, "a base chain's type, hook and priority cannot change");
        chain->base->policy = op.base->policy;
      }
      return;
    }
    case Kind::delete_chain: {
      Chain* chain = find_chain(*table, op.chain);
      if (chain == nullptr) refuse(ENOENT, "no such chain");
      if (!chain->rules.empty()) refuse(EBUSY, "the chain still holds rules");
      for (const auto& other : table->chains)
        for (const auto& rule : other.rules)
          if (rule.action.kind == Action::Kind::jump && rule.action.target == op.chain)
            refuse(EBUSY, "a rule still jumps to it");
      std::erase_if(table->chains, [&](const Chain& c) { return &c == chain; });
      return;
    }
    case Kind::flush_chain: {
      Chain* chain = find_chain(*table, op.chain);
      if (chain == nullptr) refuse(ENOENT, "no such chain");
      chain->rules.clear();
      return;
    }
    case Kind::add_rule: {
      Chain* chain = find_chain(*table, op.chain);
      if (chain == nullptr) refuse(ENOENT, "no such chain");
      if (op.rule.action.kind == Action::Kind::jump &&
          find_chain(*table, op.rule.action.target) == nullptr)
        refuse(ENOENT, "it jumps to a chain that does not exist");
      if (op.rule.action.kind == Action::Kind::offload &&
          find_flowtable(*table, op.rule.action.target) == nullptr)
        refuse(ENOENT, "its flowtable does not exist");
      Rule rule = op.rule;
      rule.handle = next_handle(*table);
      auto at = chain->rules.end();
      if (op.first) {
        at = chain->rules.begin();
      } else if (op.after) {
        at = std::find_if(chain->rules.begin(), chain->rules.end(),
                          [&](const Rule& r) { return r.handle == *op.after; });
        if (at == chain->rules.end()) refuse(ENOENT, "no rule with the handle to add after");
        ++at;
      }
      chain->rules.insert(at, std::move(rule));
      return;
    }
    case Kind::delete_rule: {
      Chain* chain = find_chain(*table, op.chain);
      if (chain == nullptr) refuse(ENOENT, "no such chain");
      const auto erased =
          std::erase_if(chain->rules, [&](const Rule& r) { return r.handle == op.handle; });
      if (erased == 0) refuse(ENOENT, "no rule with that handle");
      return;
    }
    case Kind::add_flowtable: {
      Flowtable* flowtable = find_flowtable(*table, op.flowtable.name);
      if (flowtable == nullptr) {
        table->flowtables.push_back(op.flowtable);
        return;
      }
      if (flowtable->priority != op.flowtable.priority ||
          flowtable->counter != op.flowtable.counter)
        refuse(EOPNOTSUPP, "a flowtable's priority and flags cannot change");
      for (const auto& device : op.flowtable.devices) {
        if (std::find(flowtable->devices.begin(), flowtable->devices.end(), device) ==
            flowtable->devices.end())
          flowtable->devices.push_back(device);
      }
      std::sort(flowtable->devices.begin(), flowtable->devices.end());
      return;
    }
    case Kind::delete_flowtable: {
      Flowtable* flowtable = find_flowtable(*table, op.flowtable.name);
      if (flowtable == nullptr) refuse(ENOENT, "no such flowtable");
      for (const auto& chain : table->chains)
        for (const auto& rule : chain.rules)
          if (rule.action.kind == Action::Kind::offload && rule.action.target == flowtable->name)
            refuse(EBUSY, "a rule still offloads to it");
      std::erase_if(table->flowtables, [&](const Flowtable& f) { return &f == flowtable; });
      return;
    }
    case Kind::unbind_flowtable_devices: {
      Flowtable* flowtable = find_flowtable(*table, op.flowtable.name);
      if (flowtable == nullptr) refuse(ENOENT, "no such flowtable");
      for (const auto& device : op.flowtable.devices) {
        const auto erased = std::erase(flowtable->devices, device);
        if (erased == 0) refuse(ENOENT, "device " + device + " is not bound");
      }
      return;
    }
  }
}

}  // namespace

std::optional<BatchRefusal> apply_operations(Ruleset& ruleset,
                                             const std::vector<NftOperation>& operations) {
  Ruleset working = ruleset;
  UpdatedTables updated;
  try {
    for (const auto& operation : operations) apply_one(working, operation, updated);
  } catch (const BatchRefusal& refusal) {
    return refusal;
  }
  ruleset = std::move(working);
  return std::nullopt;
}

}  // namespace fnft::state
