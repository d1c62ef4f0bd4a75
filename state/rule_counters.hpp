// Our rules with their counters, as `status` lists them, from what the kernel gave: a dump of
// our nftables tables, or `iptables-save -c`. Pure: the backends do the reading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/ruleset.hpp"

namespace fnft::state {

struct RuleCounter {
  std::string table;    // "ip flannel-nftd-ipv4", "iptables-nft nat"
  std::string chain;    // "postrtg", "FLANNEL-POSTRTG"
  std::string comment;  // "" when the rule has none
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  friend bool operator==(const RuleCounter&, const RuleCounter&) = default;
};

// What a backend read of its rules' counters.
struct RuleCounters {
  std::vector<RuleCounter> rules;
  std::optional<std::string> error;  // why some or all of them could not be read
};

// Every rule of `tables`, in order. Names are made one printable line each (state::one_line).
std::vector<RuleCounter> nft_rule_counters(const Ruleset& tables);

// The rules of flanneld's chains (FLANNEL-*) in what `tool`-save -c printed ("[packets:bytes]
// -A CHAIN ..." lines), in table order; `tool` names their table ("iptables-nft nat"). Lines
// that are not such rules are skipped.
std::vector<RuleCounter> iptables_rule_counters(std::string_view saved, std::string_view tool);

}  // namespace fnft::state
