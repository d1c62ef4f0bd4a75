#include "state/flanneld_tables.hpp"

#include <algorithm>

#include "state/desired_ruleset.hpp"

namespace fnft::state {
namespace {

NftOperation table_operation(NftOperation::Kind kind, const Table& table) {
  NftOperation op;
  op.kind = kind;
  op.family = table.family;
  op.table = table.name;
  return op;
}

NftOperation chain_operation(NftOperation::Kind kind, const Table& table, const Chain& chain) {
  NftOperation op = table_operation(kind, table);
  op.chain = chain.name;
  return op;
}

bool family_enabled(const NodeConfig& config, Family family) {
  return family == Family::ipv4 ? config.ipv4.has_value() : config.ipv6.has_value();
}

}  // namespace

std::string_view flanneld_table_name(Family family) {
  return family == Family::ipv4 ? kFlanneldIpv4TableName : kFlanneldIpv6TableName;
}

std::vector<OwnedTable> flanneld_tables() {
  return {{Family::ipv4, std::string(kFlanneldIpv4TableName)},
          {Family::ipv6, std::string(kFlanneldIpv6TableName)}};
}

bool left_by_earlier_flannel_nftd(const Table& table) {
  if (table.protection != Protection::none) return true;
  bool any_rule = false;
  for (const auto& chain : table.chains) {
    for (const auto& rule : chain.rules) {
      if (rule.comment.empty()) return false;
      any_rule = true;
    }
  }
  return any_rule;
}

std::vector<NftOperation> plan_flanneld_rules_removal(const Ruleset& observed,
                                                      const NodeConfig& config) {
  std::vector<NftOperation> removals;
  std::vector<NftOperation> deletions;  // after every flush, as the kernel checks in order
  for (const auto& table : observed.tables) {
    if (!family_enabled(config, table.family)) continue;  // ours replace nothing there
    if (left_by_earlier_flannel_nftd(table)) {
      deletions.push_back(table_operation(NftOperation::Kind::delete_table, table));
      continue;
    }
    bool forward_goes = table.find_chain(kForwardChainName) == nullptr;
    for (const auto& chain : table.chains) {
      const bool replaced = (chain.name == kPostroutingChainName && config.options.ip_masq) ||
                            (chain.name == kForwardChainName && config.options.forward_rules);
      if (!replaced) continue;
      forward_goes = forward_goes || chain.name == kForwardChainName;
      removals.push_back(chain_operation(NftOperation::Kind::flush_chain, table, chain));
      deletions.push_back(chain_operation(NftOperation::Kind::delete_chain, table, chain));
    }
    // Only the forward chain's rule uses the flowtable: it can go with that chain.
    if (const Flowtable* flowtable = table.find_flowtable(kFlowtableName);
        flowtable != nullptr && forward_goes) {
      NftOperation op = table_operation(NftOperation::Kind::delete_flowtable, table);
      op.flowtable = *flowtable;
      deletions.push_back(std::move(op));
    }
  }
  removals.insert(removals.end(), deletions.begin(), deletions.end());
  return removals;
}

std::vector<NftOperation> plan_earlier_flannel_nftd_tables_removal(const Ruleset& observed) {
  std::vector<NftOperation> deletions;
  for (const auto& table : observed.tables) {
    if (left_by_earlier_flannel_nftd(table))
      deletions.push_back(table_operation(NftOperation::Kind::delete_table, table));
  }
  return deletions;
}

}  // namespace fnft::state
