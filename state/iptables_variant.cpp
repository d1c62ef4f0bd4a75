#include "state/iptables_variant.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace fnft::state {
namespace {

constexpr std::string_view kHintChain = "KUBE-IPTABLES-HINT";
constexpr std::string_view kCanaryChain = "KUBE-KUBELET-CANARY";

bool holds_chain(const IptablesContents& contents, std::string_view chain) {
  return std::any_of(contents.families.begin(), contents.families.end(), [&](const auto& save) {
    return std::any_of(save.tables.begin(), save.tables.end(),
                       [&](const SavedTable& table) { return table.find_chain(chain) != nullptr; });
  });
}

std::size_t rules_in(const IptablesContents& contents) {
  std::size_t count = 0;
  for (const auto& save : contents.families) count += save.rule_count();
  return count;
}

IptablesVariant other(IptablesVariant backend) {
  return backend == IptablesVariant::nft ? IptablesVariant::legacy : IptablesVariant::nft;
}

}  // namespace

std::string_view to_string(IptablesVariant backend) {
  return backend == IptablesVariant::nft ? "iptables-nft" : "iptables-legacy";
}

IptablesVariantChoice choose_iptables_variant(const IptablesContents& nft,
                                              const IptablesContents& legacy) {
  for (const std::string_view chain : {kHintChain, kCanaryChain}) {
    for (const IptablesVariant backend : {IptablesVariant::nft, IptablesVariant::legacy}) {
      const auto& contents = backend == IptablesVariant::nft ? nft : legacy;
      if (holds_chain(contents, chain)) {
        return {backend, "kubelet's " + std::string(chain) + " chain is in " +
                             std::string(to_string(backend))};
      }
    }
  }
  const std::size_t nft_rules = rules_in(nft);
  const std::size_t legacy_rules = rules_in(legacy);
  const std::string counts = " (" + std::to_string(nft_rules) + " rules in iptables-nft, " +
                             std::to_string(legacy_rules) + " in iptables-legacy" +
                             (legacy.readable ? "" : ", which could not be read") + ")";
  if (legacy_rules > nft_rules) {
    return {IptablesVariant::legacy, "no kubelet chain; iptables-legacy holds more rules" + counts};
  }
  if (nft_rules > legacy_rules) {
    return {IptablesVariant::nft, "no kubelet chain; iptables-nft holds more rules" + counts};
  }
  return {IptablesVariant::nft,
          "no kubelet chain and no more rules in either" + counts + ": iptables-nft, the default"};
}

std::string other_iptables_warning(IptablesVariant used, const IptablesContents& other_contents) {
  // table -> chains, sorted, each once.
  std::map<std::string, std::set<std::string>> found;
  for (const auto& save : other_contents.families) {
    for (const auto& table : save.tables) {
      for (const auto& chain : table.chains) {
        if (chain.name.starts_with("FLANNEL-") || chain.name.starts_with("KUBE-")) {
          found[table.name].insert(chain.name);
        }
      }
    }
  }
  if (found.empty()) return {};
  std::string listed;
  for (const auto& [table, chains] : found) {
    std::string names;
    for (const auto& chain : chains) names += (names.empty() ? "" : ", ") + chain;
    listed += (listed.empty() ? "" : "; ") + table + ": " + names;
  }
  return std::string(to_string(other(used))) + " holds flannel or kube-proxy chains (" + listed +
         ") while flannel-nftd uses " + std::string(to_string(used)) +
         ": the kernel runs both, and each tool shows only its own, so rules can look right "
         "in one while packets meet the other's. Run every component with the same iptables "
         "(flannel-nftd: --iptables-backend), then remove the stale chains "
         "(`flannel-nftd cleanup --mode=all` removes flannel's)";
}

}  // namespace fnft::state
