#include "state/iptables_save.hpp"

#include <algorithm>

namespace fnft::state {
namespace {

// The word after the first of `flags` in `words`, or "".
std::string value_after(const std::vector<std::string>& words,
                        std::initializer_list<std::string_view> flags) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (std::find(flags.begin(), flags.end(), words[i]) != flags.end()) return words[i + 1];
  }
  return {};
}

std::string_view first_word(std::string_view text) {
  return text.substr(0, text.find(' '));
}

// Whether a quote opened in `line` is still open at its end, as rule_words reads quotes.
bool ends_inside_quotes(std::string_view line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (quoted && line[i] == '\\' && i + 1 < line.size()) {
      ++i;
    } else if (line[i] == '"') {
      quoted = !quoted;
    }
  }
  return quoted;
}

}  // namespace

std::vector<std::string> rule_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (c == ' ' && !quoted) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

const SavedChain* SavedTable::find_chain(std::string_view chain) const {
  const auto it = std::find_if(chains.begin(), chains.end(),
                               [&](const SavedChain& saved) { return saved.name == chain; });
  return it == chains.end() ? nullptr : &*it;
}

std::vector<const SavedRule*> SavedTable::rules_of(std::string_view chain) const {
  std::vector<const SavedRule*> found;
  for (const auto& rule : rules) {
    if (rule.chain == chain) found.push_back(&rule);
  }
  return found;
}

const SavedTable* IptablesSave::find_table(std::string_view table) const {
  const auto it = std::find_if(tables.begin(), tables.end(),
                               [&](const SavedTable& saved) { return saved.name == table; });
  return it == tables.end() ? nullptr : &*it;
}

std::size_t IptablesSave::rule_count() const {
  std::size_t count = 0;
  for (const auto& table : tables) count += table.rules.size();
  return count;
}

IptablesSave parse_iptables_save(std::string_view text) {
  IptablesSave save;
  SavedTable* current = nullptr;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '*') {
      save.tables.push_back({std::string(line.substr(1)), {}, {}});
      current = &save.tables.back();
      continue;
    }
    if (current == nullptr) continue;
    if (line.front() == ':') {
      const std::string_view declaration = line.substr(1);
      const std::string_view name = first_word(declaration);
      const std::string_view rest =
          name.size() < declaration.size() ? declaration.substr(name.size() + 1) : "";
      const bool builtin = !rest.empty() && first_word(rest) != "-";
      current->chains.push_back(
          {std::string(name), builtin, builtin ? std::string(first_word(rest)) : std::string()});
      continue;
    }
    if (!line.starts_with("-A ")) continue;
    // iptables-save prints a comment as it is, newlines included: the lines up to the
    // closing quote are that rule's, never rules of their own (a comment must not be able to
    // make a rule appear).
    std::string rule(line);
    while (ends_inside_quotes(rule) && !text.empty()) {
      const auto next = text.find('\n');
      rule += '\n';
      rule += text.substr(0, next);
      text.remove_prefix(next == std::string_view::npos ? text.size() : next + 1);
    }
    const auto words = rule_words(rule);
    if (words.size() < 2) continue;
    const std::size_t position = current->rules_of(words[1]).size() + 1;
    current->rules.push_back({words[1], rule, value_after(words, {"-j", "--jump", "-g", "--goto"}),
                              value_after(words, {"--comment"}), position});
  }
  return save;
}

}  // namespace fnft::state
