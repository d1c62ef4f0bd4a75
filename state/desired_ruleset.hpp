// The rules of docs/design.md as pure functions of the node's configuration.
#pragma once

#include <string_view>

#include "state/config.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

// The nftables mode's tables: names flanneld never opens (its own are `flannel-ipv4` and
// `flannel-ipv6`, state/flanneld_tables.hpp), so holding them keeps nothing of flanneld's out.
// The chains have flanneld's names.
inline constexpr std::string_view kIpv4TableName = "flannel-nftd-ipv4";
inline constexpr std::string_view kIpv6TableName = "flannel-nftd-ipv6";
inline constexpr std::string_view kPostroutingChainName = "postrtg";
inline constexpr std::string_view kForwardChainName = "forward";
inline constexpr std::string_view kFlowtableName = "fastpath";

// kube-proxy marks packets it wants masqueraded with this bit.
inline constexpr std::uint32_t kKubeProxyMasqueradeMark = 0x4000;

std::string_view table_name(Family family);

// Both families' tables as enabled in `config`; a family whose options want no rule at all
// gets no table. With `fast_path`, each table also holds flowtable `fastpath` on its devices,
// and the forward chain starts with the rule that puts established pod traffic on it. Every
// table has `protection`.
Ruleset desired_nft_ruleset(const NodeConfig& config,
                            const std::optional<FastPath>& fast_path = std::nullopt,
                            Protection protection = Protection::none);
inline Ruleset desired_nft_ruleset(const Target& target) {
  return desired_nft_ruleset(target.config, target.fast_path,
                             target.protect ? Protection::held : Protection::none);
}

}  // namespace fnft::state
