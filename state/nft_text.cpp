#include "state/nft_text.hpp"

#include <cstdio>
#include <type_traits>

#include "state/one_line.hpp"

namespace fnft::state {
namespace {

std::string hex32(std::uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

// nft prints a full-length prefix as a bare address; it accepts either form as input.
std::string prefix_text(const Cidr& prefix) {
  return prefix.prefix_length == prefix.max_prefix_length() ? prefix.address_string()
                                                            : prefix.to_string();
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// "established", "established,related": nft's names, in nft's order.
std::string ct_states_text(std::uint32_t states) {
  constexpr std::pair<std::uint32_t, const char*> kNames[] = {
      {0x1, "invalid"}, {0x2, "established"}, {0x4, "related"}, {0x8, "new"}, {0x40, "untracked"}};
  std::string text;
  for (const auto& [bit, name] : kNames) {
    if ((states & bit) == 0) continue;
    if (!text.empty()) text += ",";
    text += name;
    states &= ~bit;
  }
  if (states != 0 || text.empty()) text += (text.empty() ? "" : ",") + hex32(states);
  return text;
}

std::string match_text(const Match& match, Family family) {
  return std::visit(
      [family](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, MarkMatch>) {
          if (m.mask == 0xffffffff) return "meta mark " + hex32(m.value);
          return "meta mark & " + hex32(m.mask) + " == " + hex32(m.value);
        } else if constexpr (std::is_same_v<T, CtStateMatch>) {
          return "ct state " + ct_states_text(m.states);
        } else if constexpr (std::is_same_v<T, AddressMatch>) {
          std::string text(nft_family_name(family));
          text += m.field == AddressField::saddr ? " saddr " : " daddr ";
          if (m.negated) text += "!= ";
          return text + prefix_text(m.prefix);
        } else {
          return "<unknown: " + m.description + ">";
        }
      },
      match);
}

std::string action_text(const Action& action) {
  switch (action.kind) {
    case Action::Kind::none: return "";
    case Action::Kind::accept: return "accept";
    case Action::Kind::drop: return "drop";
    case Action::Kind::return_: return "return";
    case Action::Kind::jump: return "jump " + action.target;
    case Action::Kind::masquerade:
      return action.fully_random ? "masquerade fully-random" : "masquerade";
    case Action::Kind::offload: return "flow add @" + action.target;
  }
  return "";
}

void append_word(std::string& line, const std::string& word) {
  if (word.empty()) return;
  if (!line.empty()) line += ' ';
  line += word;
}

}  // namespace

std::string priority_text(const BaseChain& base) {
  if (base.type == ChainType::nat && base.hook == Hook::postrouting &&
      base.priority == kPrioritySrcNat) {
    return "srcnat";
  }
  if (base.type == ChainType::filter && base.priority == kPriorityFilter) return "filter";
  return std::to_string(base.priority);
}

std::string to_nft_text(const Rule& rule, Family family) {
  std::string line;
  for (const auto& match : rule.matches) append_word(line, match_text(match, family));
  if (rule.counter) append_word(line, "counter");
  append_word(line, action_text(rule.action));
  if (!rule.comment.empty()) append_word(line, "comment " + quoted(rule.comment));
  // A decoded rule's names and comment are the kernel's bytes, whatever they hold.
  return one_line(line);
}

std::string to_nft_text(const Table& table) {
  std::string text =
      "table " + std::string(nft_family_name(table.family)) + " " + one_line(table.name) + " {\n";
  bool first = true;
  if (table.protection != Protection::none) {
    text += table.protection == Protection::held ? "\tflags owner,persist\n" : "\tflags persist\n";
    first = false;
  }
  for (const auto& flowtable : table.flowtables) {
    if (!first) text += "\n";
    first = false;
    text += "\tflowtable " + one_line(flowtable.name) + " {\n\t\thook ingress priority " +
            (flowtable.priority == kPriorityFilter ? std::string("filter")
                                                   : std::to_string(flowtable.priority)) +
            "\n";
    if (!flowtable.devices.empty()) {
      text += "\t\tdevices = { ";
      for (std::size_t i = 0; i < flowtable.devices.size(); ++i) {
        text += (i == 0 ? "" : ", ") + one_line(flowtable.devices[i]);
      }
      text += " }\n";
    }
    if (flowtable.counter) text += "\t\tcounter\n";
    text += "\t}\n";
  }
  for (const auto& chain : table.chains) {
    if (!first) text += "\n";
    first = false;
    text += "\tchain " + one_line(chain.name) + " {\n";
    if (chain.base) {
      text += "\t\ttype " + std::string(to_string(chain.base->type)) + " hook " +
              std::string(to_string(chain.base->hook)) + " priority " + priority_text(*chain.base) +
              "; policy " + std::string(to_string(chain.base->policy)) + ";\n";
    }
    for (const auto& rule : chain.rules) text += "\t\t" + to_nft_text(rule, table.family) + "\n";
    text += "\t}\n";
  }
  return text + "}\n";
}

std::string to_nft_text(const Ruleset& ruleset) {
  std::string text;
  for (const auto& table : ruleset.tables) text += to_nft_text(table);
  return text;
}

}  // namespace fnft::state
