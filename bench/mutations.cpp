#include "bench/mutations.hpp"

#include <stdexcept>

#include "state/desired_ruleset.hpp"

namespace fnft::bench {
namespace {

using Kind = state::NftOperation::Kind;

const std::string kTable(state::kIpv4TableName);
const std::string kPostrouting(state::kPostroutingChainName);
const std::string kForward(state::kForwardChainName);

state::NftOperation operation(Kind kind, const std::string& chain = {}) {
  state::NftOperation op;
  op.kind = kind;
  op.family = state::Family::ipv4;
  op.table = kTable;
  op.chain = chain;
  return op;
}

const state::Chain& chain_of(const state::Ruleset& ruleset, const std::string& chain) {
  const state::Table* table = ruleset.find_table(state::Family::ipv4, kTable);
  const state::Chain* found = table != nullptr ? table->find_chain(chain) : nullptr;
  if (found == nullptr) throw std::runtime_error("ip " + kTable + " has no chain " + chain);
  return *found;
}

}  // namespace

std::vector<Mutation> flannel_mutations(const state::Ruleset& desired) {
  // The third postrouting rule: in the middle, so the repair cannot simply append it.
  constexpr std::size_t kVictim = 2;
  const state::Rule duplicate = chain_of(desired, kForward).rules.front();

  state::Rule foreign;
  foreign.matches.push_back(
      state::AddressMatch{state::AddressField::saddr, false, *state::parse_cidr("192.0.2.0/24")});
  foreign.counter = true;
  foreign.action.kind = state::Action::Kind::drop;
  foreign.comment = "bench: foreign rule";

  const state::BaseChain forward_base = *chain_of(desired, kForward).base;
  state::BaseChain drop_policy = forward_base;
  drop_policy.policy = state::Policy::drop;

  return {
      {"delete-rule", "delete rule ip flannel-nftd-ipv4 postrtg handle H (3rd of 6)",
       [=](const state::Ruleset& observed) {
         const auto& rules = chain_of(observed, kPostrouting).rules;
         if (rules.size() <= kVictim) throw std::runtime_error("postrtg has too few rules");
         auto op = operation(Kind::delete_rule, kPostrouting);
         op.rule = rules[kVictim];
         op.handle = rules[kVictim].handle;
         return std::vector{op};
       }},
      {"flush-chain", "flush chain ip flannel-nftd-ipv4 postrtg",
       [=](const state::Ruleset&) {
         return std::vector{operation(Kind::flush_chain, kPostrouting)};
       }},
      {"delete-chain", "flush chain + delete chain ip flannel-nftd-ipv4 forward (one batch)",
       [=](const state::Ruleset&) {
         return std::vector{operation(Kind::flush_chain, kForward),
                            operation(Kind::delete_chain, kForward)};
       }},
      {"delete-table", "delete table ip flannel-nftd-ipv4",
       [=](const state::Ruleset&) { return std::vector{operation(Kind::delete_table)}; }},
      {"foreign-rule", "add rule ip flannel-nftd-ipv4 forward ip saddr 192.0.2.0/24 counter drop",
       [=](const state::Ruleset&) {
         auto op = operation(Kind::add_rule, kForward);
         op.rule = foreign;
         return std::vector{op};
       }},
      {"policy-drop", "chain ip flannel-nftd-ipv4 forward { policy drop; }",
       [=](const state::Ruleset&) {
         auto op = operation(Kind::add_chain, kForward);
         op.base = drop_policy;
         return std::vector{op};
       }},
      {"duplicate-rule", "add rule ip flannel-nftd-ipv4 forward <copy of its first rule>",
       [=](const state::Ruleset&) {
         auto op = operation(Kind::add_rule, kForward);
         op.rule = duplicate;
         return std::vector{op};
       }},
  };
}

}  // namespace fnft::bench
