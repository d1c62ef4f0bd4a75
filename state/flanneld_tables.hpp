// flanneld's own nftables tables, which flannel-nftd never holds but takes flanneld's rules
// out of. flanneld v0.28 in its nftables mode (pkg/trafficmngr/nftables/nftables.go) opens
// `table ip flannel-ipv4` and `table ip6 flannel-ipv6` at every start (knftables' `nft
// --check` of `add table`, then `add table ... { comment "rules for flannel-ipv4" ; }`) and
// exits 1 when that is refused; with --ip-masq it writes chain `postrtg` (its masquerade),
// with --iptables-forward-rules chain `forward`. So the daemon's own tables have names of
// their own (kIpv4TableName), flanneld's tables stay flanneld's, and once the daemon's rules
// are in place the chains of flanneld's that they replace go (docs/design.md, "Beside
// flanneld"). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "state/config.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

inline constexpr std::string_view kFlanneldIpv4TableName = "flannel-ipv4";
inline constexpr std::string_view kFlanneldIpv6TableName = "flannel-ipv6";

std::string_view flanneld_table_name(Family family);
std::vector<OwnedTable> flanneld_tables();

// Whether `table` (one of flanneld's names) was left by an earlier flannel-nftd, which used
// these names: it carries `persist` (only flannel-nftd sets it), or every rule in it has a
// comment (flannel-nftd comments each rule; flanneld's nftables mode never does).
bool left_by_earlier_flannel_nftd(const Table& table);

// Takes flanneld's rules out of its tables once ours replace them: in each table of
// `observed` (flanneld's tables as the kernel holds them), chain `postrtg` when `config`
// masquerades that family, chain `forward` when it has forward rules there, and the
// flowtable an earlier flannel-nftd left beside them. A table an earlier flannel-nftd left
// goes whole. The tables themselves stay: flanneld opens them at every start.
std::vector<NftOperation> plan_flanneld_rules_removal(const Ruleset& observed,
                                                      const NodeConfig& config);

// `cleanup`: only the tables an earlier flannel-nftd left; nothing of flanneld's.
std::vector<NftOperation> plan_earlier_flannel_nftd_tables_removal(const Ruleset& observed);

}  // namespace fnft::state
