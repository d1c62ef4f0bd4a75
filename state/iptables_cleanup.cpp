#include "state/iptables_cleanup.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "state/iptables_ruleset.hpp"

namespace fnft::state {
namespace {

bool is_flannel_chain(std::string_view chain) {
  return chain == kIptablesMasqChain || chain == kIptablesForwardChain;
}

// Splits an iptables-save rule line into words, keeping "quoted strings" as one word (with
// their quotes, so the line can be written back unchanged).
std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quoted && i + 1 < line.size()) {
      word += c;
      word += line[++i];
    } else if (c == '"') {
      quoted = !quoted;
      word += c;
    } else if (c == ' ' && !quoted) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// The chain a rule jumps or goes to, or "".
std::string target_of(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const auto& flag = words[i];
    if (flag == "-j" || flag == "--jump" || flag == "-g" || flag == "--goto") return words[i + 1];
  }
  return {};
}

struct TableCleanup {
  std::vector<std::string> deletes;           // "-D CHAIN ..." lines
  std::map<std::string, std::size_t> chains;  // our chains declared here -> their rule count
};

}  // namespace

IptablesCleanupPlan plan_iptables_cleanup(std::string_view save_output) {
  std::vector<std::pair<std::string, TableCleanup>> tables;
  TableCleanup* current = nullptr;
  std::istringstream in{std::string(save_output)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      tables.emplace_back(line.substr(1), TableCleanup{});
      current = &tables.back().second;
      continue;
    }
    if (current == nullptr) continue;
    if (line[0] == ':') {
      const std::string chain = line.substr(1, line.find(' ') - 1);
      if (is_flannel_chain(chain)) current->chains.emplace(chain, 0);
      continue;
    }
    if (line.rfind("-A ", 0) != 0) continue;
    const auto words = words_of(line);
    if (words.size() < 2) continue;
    const std::string& chain = words[1];
    if (is_flannel_chain(chain)) {
      ++current->chains[chain];
    } else if (is_flannel_chain(target_of(words))) {
      current->deletes.push_back("-D" + line.substr(2));
    }
  }

  IptablesCleanupPlan plan;
  for (const auto& [table, cleanup] : tables) {
    if (cleanup.deletes.empty() && cleanup.chains.empty()) continue;
    plan.restore_payload += "*" + table + "\n";
    for (const auto& remove : cleanup.deletes) {
      plan.restore_payload += remove + "\n";
      plan.removed.push_back(table + ": -A" + remove.substr(2));
    }
    for (const auto& [chain, rules] : cleanup.chains) plan.restore_payload += "-F " + chain + "\n";
    for (const auto& [chain, rules] : cleanup.chains) {
      plan.restore_payload += "-X " + chain + "\n";
      plan.removed.push_back(table + ": chain " + chain + " (" + std::to_string(rules) + " rules)");
    }
    plan.restore_payload += "COMMIT\n";
  }
  return plan;
}

}  // namespace fnft::state
