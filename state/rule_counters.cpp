#include "state/rule_counters.hpp"

#include <charconv>

#include "state/cidr.hpp"
#include "state/iptables_save.hpp"
#include "state/one_line.hpp"

namespace fnft::state {
namespace {

std::uint64_t number(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

std::vector<RuleCounter> nft_rule_counters(const Ruleset& tables) {
  std::vector<RuleCounter> counters;
  for (const auto& table : tables.tables) {
    const std::string name =
        std::string(nft_family_name(table.family)) + " " + one_line(table.name);
    for (const auto& chain : table.chains) {
      for (const auto& rule : chain.rules) {
        counters.push_back(
            {name, one_line(chain.name), one_line(rule.comment), rule.packets, rule.bytes});
      }
    }
  }
  return counters;
}

std::vector<RuleCounter> iptables_rule_counters(std::string_view saved, std::string_view tool) {
  std::vector<RuleCounter> counters;
  std::string table;
  while (!saved.empty()) {
    const auto end = saved.find('\n');
    const std::string_view line = saved.substr(0, end);
    saved = end == std::string_view::npos ? std::string_view{} : saved.substr(end + 1);
    if (line.starts_with('*')) table = std::string(line.substr(1));
    if (!line.starts_with('[')) continue;
    const auto close = line.find("] ");
    const auto colon = line.find(':');
    if (close == std::string_view::npos || colon == std::string_view::npos || colon > close)
      continue;
    const auto words = rule_words(line.substr(close + 2));
    if (words.size() < 2 || words[0] != "-A" || !words[1].starts_with("FLANNEL-")) continue;
    std::string comment;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "--comment") comment = words[i + 1];
    }
    counters.push_back({std::string(tool) + " " + one_line(table), one_line(words[1]),
                        one_line(comment), number(line.substr(1, colon - 1)),
                        number(line.substr(colon + 1, close - colon - 1))});
  }
  return counters;
}

}  // namespace fnft::state
