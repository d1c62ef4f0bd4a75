// What other components do to flannel's tables with the real `nft` binary (kube-proxy
// through knftables, Calico, firewalld scripts, an admin): each mutation one `nft -f -` run,
// a process that commits, closes its socket and exits, which the kernel treats differently
// from a committer that keeps its socket (docs/benchmarks.md: the RCU grace period).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "state/ruleset.hpp"

namespace fnft::bench {

struct NftToolMutation {
  std::string name;
  // The `nft -f -` input, given the tables as the kernel holds them (for handles).
  std::function<std::string(const state::Ruleset& observed)> script;
};

// delete-rule, flush-chain, delete-chain, delete-table, flush-ruleset, foreign-rule,
// policy-drop, replace-rule, duplicate-rule, all on table ip flannel-nftd-ipv4 (flush-ruleset on
// everything).
std::vector<NftToolMutation> nft_tool_mutations(const state::Ruleset& desired);

}  // namespace fnft::bench
