// iptables-save output as data: tables, their chains, and their rules, each rule kept as the
// line iptables-save printed (which is also valid iptables-restore input, and what
// iptables-restore writes for the same line). Pure: the caller runs the tool.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fnft::state {

struct SavedRule {
  std::string chain;
  std::string line;          // "-A CHAIN ..." exactly as printed
  std::string target;        // the -j/-g argument, "" when the rule has none
  std::string comment;       // the --comment value, unquoted, "" when the rule has none
  std::size_t position = 0;  // 1-based, among the rules of its chain
};

struct SavedChain {
  std::string name;
  bool builtin = false;  // ":NAME POLICY [..]"; user-defined chains print "-" for a policy
  std::string policy;    // a built-in chain's: "ACCEPT", "DROP"
};

struct SavedTable {
  std::string name;  // "nat", "filter", ...
  std::vector<SavedChain> chains;
  std::vector<SavedRule> rules;  // in order, of every chain

  const SavedChain* find_chain(std::string_view chain) const;
  // The rules of `chain`, in order.
  std::vector<const SavedRule*> rules_of(std::string_view chain) const;
};

struct IptablesSave {
  std::vector<SavedTable> tables;

  const SavedTable* find_table(std::string_view table) const;
  // "-A" lines of every table.
  std::size_t rule_count() const;
};

// Reads what iptables-save / ip6tables-save print. Comments, COMMIT and blank lines are
// skipped; lines it cannot read (not "*", ":" or "-A") are ignored rather than trusted.
IptablesSave parse_iptables_save(std::string_view text);

// The words of a rule line, with "quoted strings" as one word, unquoted ("\"" and "\\"
// unescaped), as iptables-restore reads them.
std::vector<std::string> rule_words(std::string_view line);

}  // namespace fnft::state
