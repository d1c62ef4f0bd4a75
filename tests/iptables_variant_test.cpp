// Which iptables the node uses, decided as kubelet's iptables-wrappers decide it, and the
// warning for flannel or kube-proxy chains left in the other one.
#include "state/iptables_variant.hpp"

#include <gtest/gtest.h>

namespace fnft::state {
namespace {

IptablesContents holding(const std::string& save) {
  return IptablesContents{{parse_iptables_save(save)}, true};
}

const std::string kHint = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n";
const std::string kCanary = "*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n";
const std::string kThreeRules =
    "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\nCOMMIT\n";
const std::string kOneRule = "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";

TEST(IptablesVariantChoice, KubeletsHintChainDecidesWhateverHoldsMoreRules) {
  const auto choice = choose_iptables_variant(holding(kThreeRules), holding(kHint));
  EXPECT_EQ(choice.variant, IptablesVariant::legacy);
  EXPECT_EQ(choice.reason, "kubelet's KUBE-IPTABLES-HINT chain is in iptables-legacy");
  EXPECT_EQ(choose_iptables_variant(holding(kHint), holding(kThreeRules)).variant,
            IptablesVariant::nft);
}

TEST(IptablesVariantChoice, OlderKubeletsCanaryChainDecidesToo) {
  EXPECT_EQ(choose_iptables_variant(holding(kOneRule), holding(kCanary)).variant,
            IptablesVariant::legacy);
}

TEST(IptablesVariantChoice, WithoutKubeletTheBackendWithMoreRules) {
  const auto choice = choose_iptables_variant(holding(kOneRule), holding(kThreeRules));
  EXPECT_EQ(choice.variant, IptablesVariant::legacy);
  EXPECT_EQ(choice.reason,
            "no kubelet chain; iptables-legacy holds more rules (1 rules in iptables-nft, 3 in "
            "iptables-legacy)");
  EXPECT_EQ(choose_iptables_variant(holding(kThreeRules), holding(kOneRule)).variant,
            IptablesVariant::nft);
}

TEST(IptablesVariantChoice, NothingAnywhereMeansIptablesNft) {
  const auto choice = choose_iptables_variant(holding(""), IptablesContents{{}, false});
  EXPECT_EQ(choice.variant, IptablesVariant::nft);
  EXPECT_NE(choice.reason.find("which could not be read"), std::string::npos) << choice.reason;
}

TEST(IptablesVariantChoice, WarnsOfFlannelAndKubeProxyChainsInTheOtherBackend) {
  const auto other = holding(
      "*nat\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:FLANNEL-POSTRTG - [0:0]\n"
      ":DOCKER - [0:0]\nCOMMIT\n*filter\n:FLANNEL-FWD - [0:0]\nCOMMIT\n");
  const std::string warning = other_iptables_warning(IptablesVariant::nft, other);
  EXPECT_EQ(warning.rfind("iptables-legacy holds flannel or kube-proxy chains (filter: "
                          "FLANNEL-FWD; nat: FLANNEL-POSTRTG, KUBE-SERVICES) while flannel-nftd "
                          "uses iptables-nft",
                          0),
            0u)
      << warning;
  EXPECT_EQ(other_iptables_warning(IptablesVariant::nft, holding(kOneRule)), "");
}

}  // namespace
}  // namespace fnft::state
