#include "bench/nft_tool_mutations.hpp"

#include <stdexcept>

#include "state/desired_ruleset.hpp"
#include "state/nft_text.hpp"

namespace fnft::bench {
namespace {

const std::string kTable = "ip " + std::string(state::kIpv4TableName);
const std::string kPostrouting(state::kPostroutingChainName);
const std::string kForward(state::kForwardChainName);

const state::Chain& chain_of(const state::Ruleset& ruleset, const std::string& chain) {
  const state::Table* table = ruleset.find_table(state::Family::ipv4, state::kIpv4TableName);
  const state::Chain* found = table != nullptr ? table->find_chain(chain) : nullptr;
  if (found == nullptr) throw std::runtime_error(kTable + " has no chain " + chain);
  return *found;
}

std::string rule_text(const state::Rule& rule) {
  return state::to_nft_text(rule, state::Family::ipv4);
}

}  // namespace

std::vector<NftToolMutation> nft_tool_mutations(const state::Ruleset& desired) {
  // The third postrouting rule: in the middle, so a repair cannot simply append it.
  constexpr std::size_t kVictim = 2;
  const state::Rule first_forward = chain_of(desired, kForward).rules.front();
  state::Rule opposite = first_forward;
  opposite.action.kind = state::Action::Kind::drop;  // same matches and comment

  return {
      {"delete-rule",
       [](const state::Ruleset& observed) {
         const auto& rules = chain_of(observed, kPostrouting).rules;
         if (rules.size() <= kVictim) throw std::runtime_error("postrtg has too few rules");
         return "delete rule " + kTable + " " + kPostrouting + " handle " +
                std::to_string(rules[kVictim].handle) + "\n";
       }},
      {"flush-chain",
       [](const state::Ruleset&) { return "flush chain " + kTable + " " + kPostrouting + "\n"; }},
      {"delete-chain",
       [](const state::Ruleset&) {
         return "flush chain " + kTable + " " + kForward + "\ndelete chain " + kTable + " " +
                kForward + "\n";
       }},
      {"delete-table", [](const state::Ruleset&) { return "delete table " + kTable + "\n"; }},
      {"flush-ruleset", [](const state::Ruleset&) { return std::string("flush ruleset\n"); }},
      {"foreign-rule",
       [](const state::Ruleset&) {
         return "insert rule " + kTable + " " + kForward + " ip saddr 192.0.2.0/24 counter drop\n";
       }},
      {"policy-drop",
       [](const state::Ruleset&) {
         return "add chain " + kTable + " " + kForward +
                " { type filter hook forward priority filter; policy drop; }\n";
       }},
      {"replace-rule",
       [opposite](const state::Ruleset& observed) {
         return "replace rule " + kTable + " " + kForward + " handle " +
                std::to_string(chain_of(observed, kForward).rules.front().handle) + " " +
                rule_text(opposite) + "\n";
       }},
      {"duplicate-rule",
       [first_forward](const state::Ruleset&) {
         return "add rule " + kTable + " " + kForward + " " + rule_text(first_forward) + "\n";
       }},
  };
}

}  // namespace fnft::bench
