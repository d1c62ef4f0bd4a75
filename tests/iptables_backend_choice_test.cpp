// Which iptables the node uses, decided as kubelet's iptables-wrappers decide it, and the
// warning for flannel or kube-proxy chains left in the other one.
#include "state/iptables_backend_choice.hpp"

#include <gtest/gtest.h>

namespace fnft::state {
namespace {

BackendContents holding(const std::string& save) {
  return BackendContents{{parse_iptables_save(save)}, true};
}

const std::string kHint = "*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n";
const std::string kCanary = "*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n";
const std::string kThreeRules =
    "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\nCOMMIT\n";
const std::string kOneRule = "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n";

TEST(IptablesBackendChoice, KubeletsHintChainDecidesWhateverHoldsMoreRules) {
  const auto choice = choose_iptables_backend(holding(kThreeRules), holding(kHint));
  EXPECT_EQ(choice.backend, IptablesBackend::legacy);
  EXPECT_EQ(choice.reason, "kubelet's KUBE-IPTABLES-HINT chain is in iptables-legacy");
  EXPECT_EQ(choose_iptables_backend(holding(kHint), holding(kThreeRules)).backend,
            IptablesBackend::nft);
}

TEST(IptablesBackendChoice, OlderKubeletsCanaryChainDecidesToo) {
  EXPECT_EQ(choose_iptables_backend(holding(kOneRule), holding(kCanary)).backend,
            IptablesBackend::legacy);
}

TEST(IptablesBackendChoice, WithoutKubeletTheBackendWithMoreRules) {
  const auto choice = choose_iptables_backend(holding(kOneRule), holding(kThreeRules));
  EXPECT_EQ(choice.backend, IptablesBackend::legacy);
  EXPECT_EQ(choice.reason,
            "no kubelet chain; iptables-legacy holds more rules (1 rules in iptables-nft, 3 in "
            "iptables-legacy)");
  EXPECT_EQ(choose_iptables_backend(holding(kThreeRules), holding(kOneRule)).backend,
            IptablesBackend::nft);
}

TEST(IptablesBackendChoice, NothingAnywhereMeansIptablesNft) {
  const auto choice = choose_iptables_backend(holding(""), BackendContents{{}, false});
  EXPECT_EQ(choice.backend, IptablesBackend::nft);
  EXPECT_NE(choice.reason.find("which could not be read"), std::string::npos) << choice.reason;
}

TEST(IptablesBackendChoice, WarnsOfFlannelAndKubeProxyChainsInTheOtherBackend) {
  const auto other = holding(
      "*nat\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:FLANNEL-POSTRTG - [0:0]\n"
      ":DOCKER - [0:0]\nCOMMIT\n*filter\n:FLANNEL-FWD - [0:0]\nCOMMIT\n");
  const std::string warning = other_backend_warning(IptablesBackend::nft, other);
  EXPECT_EQ(warning.rfind("iptables-legacy holds flannel or kube-proxy chains (filter: "
                          "FLANNEL-FWD; nat: FLANNEL-POSTRTG, KUBE-SERVICES) while flannel-nftd "
                          "uses iptables-nft",
                          0),
            0u)
      << warning;
  EXPECT_EQ(other_backend_warning(IptablesBackend::nft, holding(kOneRule)), "");
}

}  // namespace
}  // namespace fnft::state
