// iptables mode: exactly flanneld's chains, rules and comments, as iptables-restore input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "state/config.hpp"

namespace fnft::state {

inline constexpr std::string_view kIptablesMasqChain = "FLANNEL-POSTRTG";
inline constexpr std::string_view kIptablesForwardChain = "FLANNEL-FWD";
// flanneld's comments on every rule it writes (older flanneld put such rules straight into
// POSTROUTING, without a chain of their own).
inline constexpr std::string_view kIptablesMasqComment = "flanneld masq";
inline constexpr std::string_view kIptablesForwardComment = "flanneld forward";

inline bool is_flanneld_iptables_chain(std::string_view chain) {
  return chain == kIptablesMasqChain || chain == kIptablesForwardChain;
}
inline bool is_flanneld_iptables_comment(std::string_view comment) {
  return comment == kIptablesMasqComment || comment == kIptablesForwardComment;
}

// One `-A CHAIN ARGS...` line.
struct IptablesRule {
  std::string chain;
  std::vector<std::string> args;
  friend bool operator==(const IptablesRule&, const IptablesRule&) = default;
};

struct IptablesTable {
  std::string name;                     // "nat", "filter"
  std::vector<std::string> own_chains;  // declared with `:NAME - [0:0]`
  std::vector<IptablesRule> rules;      // jumps from built-in chains first, then our chains
  friend bool operator==(const IptablesTable&, const IptablesTable&) = default;
};

struct IptablesRuleset {
  Family family = Family::ipv4;  // iptables or ip6tables
  std::vector<IptablesTable> tables;
  friend bool operator==(const IptablesRuleset&, const IptablesRuleset&) = default;
};

IptablesRuleset desired_iptables_ruleset(Family family, const FamilyNetworks& networks,
                                         const RuleOptions& options);

// iptables-restore input; comments are quoted the way flanneld quotes them.
std::string to_iptables_restore(const IptablesRuleset& ruleset);
// Every enabled family's payload; with both, the ip6tables payload follows the iptables one
// and each is introduced by a `# iptables-restore` / `# ip6tables-restore` line.
std::string to_iptables_restore(const NodeConfig& config);
// One rule as `-A CHAIN ARGS` (also the `iptables -C` / `-D` argument form).
std::string to_iptables_line(const IptablesRule& rule);

}  // namespace fnft::state
