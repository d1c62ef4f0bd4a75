// What the daemon says of the neighbours that would write pod masquerade or forward rules
// beside it.
#include "state/neighbours.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fnft::state {
namespace {

using testing::HasSubstr;

TEST(Neighbours, ACommitterIsDescribedWithWhoStartedIt) {
  EXPECT_EQ(describe(Committer{"nft", 42, "flanneld", 40}),
            "nft (pid 42, started by flanneld pid 40)");
  EXPECT_EQ(describe(Committer{"iptables-nft-re", 7, "", 0}), "iptables-nft-re (pid 7)");
  EXPECT_EQ(describe(Committer{"", 7, "", 0}), "a process (pid 7)");
}

TEST(Neighbours, OnlyFlanneldAndItsChildrenAreFlanneld) {
  EXPECT_TRUE(started_by_flanneld(Committer{"nft", 42, "flanneld", 40}));
  EXPECT_TRUE(started_by_flanneld(Committer{"flanneld", 40, "containerd-shim", 1}));
  EXPECT_FALSE(started_by_flanneld(Committer{"nft", 42, "bash", 40}));
  EXPECT_FALSE(started_by_flanneld(Committer{"nft", 42, "flanneld-wrapper", 40}));
}

TEST(Neighbours, FlanneldsIpMasqIsASecondMasqueradeOnlyWhereWeMasquerade) {
  SubnetEnv env;
  env.ip_masq = true;
  RuleOptions ours;
  const auto warning = flanneld_ip_masq_warning("/run/flannel/subnet.env", env, ours);
  ASSERT_TRUE(warning.has_value());
  EXPECT_THAT(*warning, HasSubstr("/run/flannel/subnet.env says FLANNEL_IPMASQ=true"));
  EXPECT_THAT(*warning, HasSubstr("--ip-masq=false --iptables-forward-rules=false"));

  ours.ip_masq = false;
  EXPECT_FALSE(flanneld_ip_masq_warning("/run/flannel/subnet.env", env, ours));
  ours.ip_masq = true;
  env.ip_masq = false;
  EXPECT_FALSE(flanneld_ip_masq_warning("/run/flannel/subnet.env", env, ours));
  env.ip_masq.reset();
  EXPECT_FALSE(flanneld_ip_masq_warning("/run/flannel/subnet.env", env, ours));
}

TEST(Neighbours, CniMasqueradeChainsAreTheBridgePluginsHashNames) {
  // utils.FormatChainName("cbr0", containerID): "CNI-" and 24 hex digits of a sha512.
  EXPECT_TRUE(is_cni_masquerade_chain("CNI-3a5f1a6c0e8b7d2f4c9e1b0a"));
  EXPECT_FALSE(is_cni_masquerade_chain("CNI-HOSTPORT-DNAT"));
  EXPECT_FALSE(is_cni_masquerade_chain("CNI-DN-3a5f1a6c0e8b7d2f4c9e1"));
  EXPECT_FALSE(is_cni_masquerade_chain("CNI-3A5F1A6C0E8B7D2F4C9E1B0A"));
  EXPECT_FALSE(is_cni_masquerade_chain("CNI-3a5f1a6c0e8b7d2f4c9e1b0"));
  EXPECT_FALSE(is_cni_masquerade_chain("KUBE-3a5f1a6c0e8b7d2f4c9e1b0a"));
}

TEST(Neighbours, CniMasqueradeNamesAFewChainsAndTheFix) {
  EXPECT_FALSE(cni_masquerade_warning({}));
  const std::vector<std::string> chains = {
      "ip nat CNI-000000000000000000000001", "ip nat CNI-000000000000000000000002",
      "ip nat CNI-000000000000000000000003", "ip nat CNI-000000000000000000000004"};
  const auto warning = cni_masquerade_warning(chains);
  ASSERT_TRUE(warning.has_value());
  EXPECT_THAT(*warning, HasSubstr("4 chain(s) ip nat CNI-000000000000000000000001, "));
  EXPECT_THAT(*warning, HasSubstr("CNI-000000000000000000000003, ..."));
  EXPECT_THAT(*warning, testing::Not(HasSubstr("000004")));
  EXPECT_THAT(*warning, HasSubstr("\"ipMasq\": false"));
}

TEST(Neighbours, AWriterOfFlanneldsChainsIsToldWhichFlagStopsIt) {
  const Committer nft{"nft", 42, "flanneld", 40};
  EXPECT_THAT(flanneld_nftables_writer_warning(nft, "chain ip flannel-ipv4 postrtg"),
              HasSubstr("wrote flanneld's own masquerade (chain ip flannel-ipv4 postrtg)"));
  EXPECT_THAT(flanneld_nftables_writer_warning(nft, "chain ip flannel-ipv4 postrtg"),
              HasSubstr("--ip-masq=false"));
  EXPECT_THAT(flanneld_nftables_writer_warning(nft, "chain ip6 flannel-ipv6 forward"),
              HasSubstr("--iptables-forward-rules=false"));
  EXPECT_THAT(flanneld_iptables_writer_warning(nft, "ip nat FLANNEL-POSTRTG"),
              HasSubstr("nft (pid 42, started by flanneld pid 40) changed flannel-nftd's "
                        "iptables rules (ip nat FLANNEL-POSTRTG)"));
}

TEST(Neighbours, OnlyTheIptablesModeBesideFlanneldsNftablesModeIsAMismatch) {
  NetConf nftables;
  nftables.enable_nftables = true;
  NetConf iptables;
  EXPECT_TRUE(mode_mismatch_warning(Mode::iptables, nftables, "/etc/kube-flannel/net-conf.json"));
  EXPECT_FALSE(mode_mismatch_warning(Mode::nftables, nftables, "net-conf.json"));
  EXPECT_FALSE(mode_mismatch_warning(Mode::iptables, iptables, "net-conf.json"));
  EXPECT_FALSE(mode_mismatch_warning(Mode::iptables, std::nullopt, "net-conf.json"));
}

}  // namespace
}  // namespace fnft::state
