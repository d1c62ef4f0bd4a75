// What other processes do to flannel's tables, as the repair benchmark inflicts it: each a
// single nftables transaction committed on the benchmark's own netlink socket.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::bench {

struct Mutation {
  std::string name;
  std::string nft_command;  // the same change as an nft command, for the report
  // The operations of one batch, given the tables as the kernel holds them now (the
  // handle of a rule to delete comes from there).
  std::function<std::vector<state::NftOperation>(const state::Ruleset& observed)> operations;
};

// delete-rule, flush-chain, delete-chain, delete-table, foreign-rule, policy-drop,
// duplicate-rule, all on table ip flannel-nftd-ipv4.
std::vector<Mutation> flannel_mutations(const state::Ruleset& desired);

}  // namespace fnft::bench
