// The rules of DESIGN.md as pure functions of the node's configuration.
#pragma once

#include <string_view>

#include "state/config.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

// Upstream flannel's table and chain names, so a node migrating from flanneld's own
// nftables mode is taken over in place.
inline constexpr std::string_view kIpv4TableName = "flannel-ipv4";
inline constexpr std::string_view kIpv6TableName = "flannel-ipv6";
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
