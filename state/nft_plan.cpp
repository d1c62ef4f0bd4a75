#include "state/nft_plan.hpp"

#include <algorithm>
#include <set>

#include "state/nft_text.hpp"

namespace fnft::state {
namespace {

using Kind = NftOperation::Kind;

// The kernel finds a rule to delete by walking its chain, so deleting k of a chain's n rules
// by handle costs k * n: 100,000 foreign rules took a minute of kernel time that way. Past
// this many, the chain is flushed and refilled in the same batch, linear in n (our rules lose
// their counters, which a flood of foreign rules makes a small price).
constexpr std::size_t kMaxRulesDeletedByHandle = 64;

// A batch is only valid in this order: rules leave chains before chains are deleted (a
// jump keeps its target busy), and chains are deleted before a same-named one is added.
// Tables are claimed or replaced before anything in them is touched.
struct PlanPhases {
  std::vector<NftOperation> tables;
  std::vector<NftOperation> remove_rules;
  std::vector<NftOperation> remove_chains;
  std::vector<NftOperation> add;

  std::vector<NftOperation> joined() && {
    std::vector<NftOperation> all = std::move(tables);
    all.insert(all.end(), remove_rules.begin(), remove_rules.end());
    all.insert(all.end(), remove_chains.begin(), remove_chains.end());
    all.insert(all.end(), add.begin(), add.end());
    return all;
  }
};

NftOperation operation(Kind kind, const Table& table, std::string chain = {}) {
  NftOperation op;
  op.kind = kind;
  op.family = table.family;
  op.table = table.name;
  op.chain = std::move(chain);
  return op;
}

void add_chain_with_rules(PlanPhases& phases, const Table& table, const Chain& chain) {
  NftOperation add = operation(Kind::add_chain, table, chain.name);
  add.base = chain.base;
  phases.add.push_back(std::move(add));
  for (const auto& rule : chain.rules) {
    NftOperation add_rule = operation(Kind::add_rule, table, chain.name);
    add_rule.rule = rule;
    phases.add.push_back(std::move(add_rule));
  }
}

void append_rules(PlanPhases& phases, const Table& table, const Chain& chain) {
  for (const auto& rule : chain.rules) {
    NftOperation add_rule = operation(Kind::add_rule, table, chain.name);
    add_rule.rule = rule;
    phases.add.push_back(std::move(add_rule));
  }
}

// The observed rules that are not part of an in-order match of `desired`, or nullopt
// when `desired` is not a subsequence of `observed`.
std::optional<std::vector<const Rule*>> extra_rules(const std::vector<Rule>& desired,
                                                    const std::vector<Rule>& observed) {
  std::vector<const Rule*> extras;
  std::size_t next = 0;
  for (const auto& rule : observed) {
    if (next < desired.size() && rule == desired[next]) {
      ++next;
    } else {
      extras.push_back(&rule);
    }
  }
  if (next != desired.size()) return std::nullopt;
  return extras;
}

// When `observed` is `desired` with some rules missing (same order, nothing else), the
// operations that put them back in place: each run of missing rules right after the rule
// before it that is still there (inserted last-first, so they end up in order), or at the
// head of the chain; nullopt otherwise.
std::optional<std::vector<NftOperation>> reinsertions(const Table& table, const Chain& want,
                                                      const std::vector<Rule>& observed) {
  std::vector<NftOperation> inserts;
  std::optional<std::uint64_t> previous;  // the handle of the last desired rule still there
  std::vector<const Rule*> run;           // missing rules since then
  const auto flush_run = [&] {
    for (auto it = run.rbegin(); it != run.rend(); ++it) {
      NftOperation add = operation(Kind::add_rule, table, want.name);
      add.rule = **it;
      if (previous) {
        add.after = previous;
      } else if (!observed.empty()) {
        add.first = true;
      }
      inserts.push_back(std::move(add));
    }
    run.clear();
  };
  std::size_t next = 0;
  for (const auto& rule : want.rules) {
    if (next < observed.size() && observed[next] == rule) {
      flush_run();
      previous = observed[next].handle;
      ++next;
    } else {
      run.push_back(&rule);
    }
  }
  if (next != observed.size()) return std::nullopt;
  // With nothing left in the chain the run is appended, in order.
  if (observed.empty()) {
    for (const Rule* rule : run) {
      NftOperation add = operation(Kind::add_rule, table, want.name);
      add.rule = *rule;
      inserts.push_back(std::move(add));
    }
    return inserts;
  }
  flush_run();
  return inserts;
}

bool same_hook(const std::optional<BaseChain>& a, const std::optional<BaseChain>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->type == b->type && a->hook == b->hook && a->priority == b->priority;
}

bool uses_any(const Chain& chain, const std::set<std::string>& flowtables) {
  return std::any_of(chain.rules.begin(), chain.rules.end(), [&](const Rule& rule) {
    return rule.action.kind == Action::Kind::offload && flowtables.count(rule.action.target) != 0;
  });
}

NftOperation flowtable_operation(Kind kind, const Table& table, Flowtable flowtable) {
  NftOperation op = operation(kind, table);
  op.flowtable = std::move(flowtable);
  return op;
}

std::vector<std::string> without(const std::vector<std::string>& all,
                                 const std::vector<std::string>& these) {
  std::vector<std::string> rest;
  for (const auto& item : all) {
    if (std::find(these.begin(), these.end(), item) == these.end()) rest.push_back(item);
  }
  return rest;
}

// Returns the flowtables that go away or are replaced: the rules using them must go first.
std::set<std::string> plan_flowtables(PlanPhases& phases, const Table& want, const Table* have) {
  std::set<std::string> going;
  for (const auto& flowtable : want.flowtables) {
    const Flowtable* held = have != nullptr ? have->find_flowtable(flowtable.name) : nullptr;
    if (held == nullptr) {
      phases.add.push_back(flowtable_operation(Kind::add_flowtable, want, flowtable));
      continue;
    }
    if (held->priority != flowtable.priority || held->counter != flowtable.counter) {
      going.insert(flowtable.name);
      phases.remove_chains.push_back(flowtable_operation(Kind::delete_flowtable, want, *held));
      phases.add.push_back(flowtable_operation(Kind::add_flowtable, want, flowtable));
      continue;
    }
    Flowtable stale = *held;
    stale.devices = without(held->devices, flowtable.devices);
    if (!stale.devices.empty()) {
      phases.remove_chains.push_back(
          flowtable_operation(Kind::unbind_flowtable_devices, want, std::move(stale)));
    }
    Flowtable missing = flowtable;
    missing.devices = without(flowtable.devices, held->devices);
    if (!missing.devices.empty()) {
      phases.add.push_back(flowtable_operation(Kind::add_flowtable, want, std::move(missing)));
    }
  }
  if (have != nullptr) {
    for (const auto& flowtable : have->flowtables) {
      if (want.find_flowtable(flowtable.name) != nullptr) continue;
      going.insert(flowtable.name);
      phases.remove_chains.push_back(flowtable_operation(Kind::delete_flowtable, *have, flowtable));
    }
  }
  return going;
}

void plan_chain(PlanPhases& phases, const Table& table, const Chain& want, const Chain* have,
                const std::set<std::string>& going_flowtables) {
  if (have == nullptr) {
    add_chain_with_rules(phases, table, want);
    return;
  }
  if (!same_hook(want.base, have->base)) {
    // The kernel cannot move a chain to another hook or priority: replace it.
    phases.remove_rules.push_back(operation(Kind::flush_chain, table, want.name));
    phases.remove_chains.push_back(operation(Kind::delete_chain, table, want.name));
    add_chain_with_rules(phases, table, want);
    return;
  }
  if (want.base != have->base) {
    NftOperation update = operation(Kind::add_chain, table, want.name);
    update.base = want.base;
    phases.add.push_back(std::move(update));
  }
  // A rule that uses a flowtable about to be replaced keeps it busy: rewrite the chain.
  const bool rewrite = uses_any(*have, going_flowtables) && uses_any(want, going_flowtables);
  if (want.rules == have->rules && !rewrite) return;
  if (const auto extras = extra_rules(want.rules, have->rules);
      extras && extras->size() <= kMaxRulesDeletedByHandle && !rewrite) {
    for (const Rule* extra : *extras) {
      NftOperation remove = operation(Kind::delete_rule, table, want.name);
      remove.rule = *extra;
      remove.handle = extra->handle;
      phases.remove_rules.push_back(std::move(remove));
    }
    return;
  }
  if (auto inserts = rewrite ? std::nullopt : reinsertions(table, want, have->rules)) {
    phases.add.insert(phases.add.end(), inserts->begin(), inserts->end());
    return;
  }
  phases.remove_rules.push_back(operation(Kind::flush_chain, table, want.name));
  append_rules(phases, table, want);
}

void plan_table(PlanPhases& phases, const Table* want, const Table* have) {
  if (want == nullptr) {
    if (have != nullptr) phases.remove_chains.push_back(operation(Kind::delete_table, *have));
    return;
  }
  if (have != nullptr && have->protection != want->protection) {
    if (takes_back_in_place(*want, *have)) {
      NftOperation claim = operation(Kind::add_table, *want);
      claim.protection = Protection::held;
      phases.tables.push_back(std::move(claim));
    } else {
      phases.tables.push_back(operation(Kind::delete_table, *have));
      have = nullptr;
    }
  }
  if (have == nullptr) {
    NftOperation add = operation(Kind::add_table, *want);
    add.protection = want->protection;
    phases.add.push_back(std::move(add));
    plan_flowtables(phases, *want, nullptr);
    for (const auto& chain : want->chains) add_chain_with_rules(phases, *want, chain);
    return;
  }
  const std::set<std::string> going = plan_flowtables(phases, *want, have);
  for (const auto& chain : want->chains)
    plan_chain(phases, *want, chain, have->find_chain(chain.name), going);
  for (const auto& chain : have->chains) {
    if (want->find_chain(chain.name) != nullptr) continue;
    if (!chain.rules.empty())
      phases.remove_rules.push_back(operation(Kind::flush_chain, *have, chain.name));
    phases.remove_chains.push_back(operation(Kind::delete_chain, *have, chain.name));
  }
}

}  // namespace

bool takes_back_in_place(const Table& want, const Table& have) {
  if (have.protection != Protection::orphaned || want.protection != Protection::held) return false;
  return std::all_of(want.chains.begin(), want.chains.end(), [&](const Chain& chain) {
    if (!chain.base) return true;
    const Chain* held = have.find_chain(chain.name);
    return held != nullptr && held->base == chain.base;
  });
}

std::vector<NftOperation> plan_nft_changes(const Ruleset& desired, const Ruleset& observed,
                                           const std::vector<OwnedTable>& owned) {
  PlanPhases phases;
  for (const auto& table : owned) {
    plan_table(phases, desired.find_table(table.family, table.name),
               observed.find_table(table.family, table.name));
  }
  return std::move(phases).joined();
}

std::string describe(const NftOperation& op) {
  const std::string table = std::string(nft_family_name(op.family)) + " " + op.table;
  switch (op.kind) {
    case Kind::add_table:
      return "add table " + table +
             (op.protection == Protection::held ? " { flags owner, persist; }" : "");
    case Kind::delete_table: return "delete table " + table;
    case Kind::add_chain: {
      std::string text = "add chain " + table + " " + op.chain;
      if (op.base) {
        text += " { type " + std::string(to_string(op.base->type)) + " hook " +
                std::string(to_string(op.base->hook)) + " priority " + priority_text(*op.base) +
                "; policy " + std::string(to_string(op.base->policy)) + "; }";
      }
      return text;
    }
    case Kind::delete_chain: return "delete chain " + table + " " + op.chain;
    case Kind::flush_chain: return "flush chain " + table + " " + op.chain;
    case Kind::add_rule:
      if (op.first)
        return "insert rule " + table + " " + op.chain + " " + to_nft_text(op.rule, op.family);
      return "add rule " + table + " " + op.chain +
             (op.after ? " position " + std::to_string(*op.after) : "") + " " +
             to_nft_text(op.rule, op.family);
    case Kind::delete_rule:
      return "delete rule " + table + " " + op.chain + " handle " + std::to_string(op.handle) +
             " # " + to_nft_text(op.rule, op.family);
    case Kind::add_flowtable:
    case Kind::unbind_flowtable_devices: {
      std::string text = std::string(op.kind == Kind::add_flowtable ? "add" : "delete") +
                         " flowtable " + table + " " + op.flowtable.name + " {";
      if (op.kind == Kind::add_flowtable) {
        text += " hook ingress priority " +
                (op.flowtable.priority == kPriorityFilter ? std::string("filter")
                                                          : std::to_string(op.flowtable.priority)) +
                ";";
      }
      if (!op.flowtable.devices.empty()) {
        text += " devices = {";
        for (std::size_t i = 0; i < op.flowtable.devices.size(); ++i) {
          text += (i == 0 ? " " : ", ") + op.flowtable.devices[i];
        }
        text += " };";
      }
      if (op.kind == Kind::add_flowtable && op.flowtable.counter) text += " counter;";
      return text + " }";
    }
    case Kind::delete_flowtable: return "delete flowtable " + table + " " + op.flowtable.name;
  }
  return "?";
}

}  // namespace fnft::state
