#include "state/iptables_plan.hpp"

#include <algorithm>
#include <set>

#include "state/one_line.hpp"

namespace fnft::state {
namespace {

bool is_our_chain(std::string_view chain) {
  return is_flanneld_iptables_chain(chain);
}

bool has_flanneld_comment(const SavedRule& rule) {
  return is_flanneld_iptables_comment(rule.comment);
}

// One rule to delete: "-A CHAIN rest" -> "-D CHAIN rest", which iptables-restore deletes as
// the first rule matching it, so a rule that moved meanwhile is still the one deleted. A rule
// whose comment holds a newline cannot be written as one line: it is deleted by its position,
// and such deletions go first, from the end of each chain, so none moves another.
struct Deletion {
  std::string line;   // "-D ...", or empty for one by position
  std::string chain;  // for one by position
  std::size_t position = 0;
};

Deletion deletion_of(const SavedRule& rule) {
  if (rule.line.find('\n') == std::string::npos) return {"-D" + rule.line.substr(2), {}, 0};
  return {{}, rule.chain, rule.position};
}

// One table's part of the payload, in the order the kernel needs: chains declared before a
// jump to them is added, jumps deleted before the chain they reach is.
struct TablePlan {
  std::vector<std::string> declare;  // ":CHAIN - [0:0]": creates the chain, or flushes it
  std::vector<Deletion> remove;
  std::vector<std::string> drop_chains;
  std::vector<std::string> append;  // "-A ..."
  std::vector<std::string> changes;

  bool empty() const {
    return declare.empty() && remove.empty() && drop_chains.empty() && append.empty();
  }

  std::string payload(const std::string& table) const {
    std::string text = "*" + table + "\n";
    for (const auto& chain : declare) text += ":" + chain + " - [0:0]\n";
    std::vector<Deletion> by_position;
    for (const auto& deletion : remove) {
      if (deletion.line.empty()) by_position.push_back(deletion);
    }
    std::sort(by_position.begin(), by_position.end(),
              [](const Deletion& a, const Deletion& b) { return a.position > b.position; });
    for (const auto& deletion : by_position)
      text += "-D " + deletion.chain + " " + std::to_string(deletion.position) + "\n";
    for (const auto& deletion : remove) {
      if (!deletion.line.empty()) text += deletion.line + "\n";
    }
    for (const auto& chain : drop_chains) text += "-F " + chain + "\n";
    for (const auto& chain : drop_chains) text += "-X " + chain + "\n";
    for (const auto& line : append) text += line + "\n";
    return text + "COMMIT\n";
  }
};

std::vector<std::string> lines_of(const std::vector<const SavedRule*>& rules) {
  std::vector<std::string> lines;
  for (const auto* rule : rules) lines.push_back(rule->line);
  return lines;
}

// Our chain `chain` of `desired` (a table that wants it) against what `observed` holds.
void plan_own_chain(TablePlan& plan, const std::string& chain, const IptablesTable& desired,
                    const SavedTable* observed) {
  std::vector<std::string> want;
  for (const auto& rule : desired.rules) {
    if (rule.chain == chain) want.push_back(to_iptables_line(rule));
  }
  const bool exists = observed != nullptr && observed->find_chain(chain) != nullptr;
  if (exists && lines_of(observed->rules_of(chain)) == want) return;
  plan.declare.push_back(chain);
  plan.append.insert(plan.append.end(), want.begin(), want.end());
  plan.changes.push_back((exists ? "rewrite chain " : "add chain ") + chain + " (" +
                         std::to_string(want.size()) + " rules)");
}

void plan_table(TablePlan& plan, const IptablesTable* desired, const SavedTable* observed) {
  std::set<std::string> wanted_chains;
  std::vector<std::string> wanted_jumps;  // lines in built-in chains
  if (desired != nullptr) {
    wanted_chains.insert(desired->own_chains.begin(), desired->own_chains.end());
    for (const auto& rule : desired->rules) {
      if (!is_our_chain(rule.chain)) wanted_jumps.push_back(to_iptables_line(rule));
    }
    for (const auto& chain : desired->own_chains) plan_own_chain(plan, chain, *desired, observed);
  }

  // Jumps: each wanted one exactly once; every other reference to our chains, and every rule
  // with flanneld's comment outside our chains, deleted.
  std::vector<std::size_t> seen(wanted_jumps.size(), 0);
  if (observed != nullptr) {
    for (const auto& rule : observed->rules) {
      if (is_our_chain(rule.chain)) continue;  // rewritten above, or dropped below
      const auto wanted = std::find(wanted_jumps.begin(), wanted_jumps.end(), rule.line);
      if (wanted != wanted_jumps.end()) {
        const auto index = static_cast<std::size_t>(wanted - wanted_jumps.begin());
        if (++seen[index] == 1) continue;
        plan.remove.push_back(deletion_of(rule));
        plan.changes.push_back("delete " + one_line(rule.line) + " (a duplicate)");
        continue;
      }
      if (!is_our_chain(rule.target) && !has_flanneld_comment(rule)) continue;
      plan.remove.push_back(deletion_of(rule));
      plan.changes.push_back("delete " + one_line(rule.line));
    }
  }
  for (std::size_t i = 0; i < wanted_jumps.size(); ++i) {
    if (seen[i] > 0) continue;
    plan.append.push_back(wanted_jumps[i]);
    plan.changes.push_back("add " + wanted_jumps[i]);
  }

  // Our chains this table should not have: their jumps are gone above, so they can go.
  if (observed != nullptr) {
    for (const auto& chain : observed->chains) {
      if (!is_our_chain(chain.name) || wanted_chains.count(chain.name) != 0) continue;
      plan.drop_chains.push_back(chain.name);
      plan.changes.push_back("delete chain " + one_line(chain.name) + " (" +
                             std::to_string(observed->rules_of(chain.name).size()) + " rules)");
    }
  }
}

}  // namespace

IptablesPlan plan_iptables_changes(const IptablesRuleset& desired, const IptablesSave& observed) {
  std::vector<std::string> tables;
  for (const auto& table : desired.tables) tables.push_back(table.name);
  for (const auto& table : observed.tables) {
    if (std::find(tables.begin(), tables.end(), table.name) == tables.end()) {
      tables.push_back(table.name);
    }
  }
  IptablesPlan plan;
  for (const auto& name : tables) {
    const auto want = std::find_if(desired.tables.begin(), desired.tables.end(),
                                   [&](const IptablesTable& table) { return table.name == name; });
    TablePlan table_plan;
    plan_table(table_plan, want == desired.tables.end() ? nullptr : &*want,
               observed.find_table(name));
    if (table_plan.empty()) continue;
    plan.restore_payload += table_plan.payload(name);
    plan.nat_changed = plan.nat_changed || name == "nat";
    for (const auto& change : table_plan.changes) plan.changes.push_back(name + ": " + change);
  }
  return plan;
}

}  // namespace fnft::state
