// The neighbours that can write pod masquerade or forward rules beside flannel-nftd, and what
// the daemon, `status` and `doctor` say when one does: two writers of one rule set is a
// combination that cannot work, so it is named with its exact fix rather than suffered.
// Pure: each function turns what was read (a file's value, chain names, a commit) into the
// one line that says it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/config.hpp"

namespace fnft::state {

// A process that committed to nf_tables, as the daemon saw it: NEWGEN's pid and name, and,
// when it could still be read from /proc, the process that started it.
struct Committer {
  std::string name;
  std::uint32_t pid = 0;
  std::string parent_name;  // "" when unknown
  std::uint32_t parent_pid = 0;
  friend bool operator==(const Committer&, const Committer&) = default;
};

// "nft (pid 42, started by flanneld pid 40)".
std::string describe(const Committer& committer);
// Whether flanneld started it (the name flanneld runs under, also in kube-flannel's image).
bool started_by_flanneld(const Committer& committer);

// flanneld writes FLANNEL_IPMASQ=true into subnet.env when it runs with --ip-masq, and then
// keeps its own masquerade: a second writer wherever flannel-nftd masquerades.
std::optional<std::string> flanneld_ip_masq_warning(const std::string& subnet_file,
                                                    const SubnetEnv& subnet_env,
                                                    const RuleOptions& options);

// The bridge (or ptp) plugin's own masquerade (`"ipMasq": true`): one nat chain per pod named
// "CNI-" and 24 hex digits (containernetworking/plugins pkg/ip/ipmasq_linux.go,
// utils.FormatChainName), entered from POSTROUTING for the pod's address. portmap's chains
// (CNI-HOSTPORT-*, CNI-DN-*) are not masquerade writers of this kind.
bool is_cni_masquerade_chain(std::string_view chain);
// `chains`: "ip nat CNI-0123..." of every such chain found. flannel's CNI plugin sets the
// delegate's ipMasq to !FLANNEL_IPMASQ unless cni-conf.json says otherwise, so flanneld with
// --ip-masq=false turns it on.
std::optional<std::string> cni_masquerade_warning(const std::vector<std::string>& chains);

// A process wrote flanneld's own nftables chain (`postrtg` or `forward`) into flanneld's
// table beside ours; it was taken out again.
std::string flanneld_nftables_writer_warning(const Committer& committer, const std::string& object);
// A process started by flanneld committed to the iptables chains flannel-nftd keeps.
std::string flanneld_iptables_writer_warning(const Committer& committer, const std::string& object);

// --mode=iptables while net-conf.json says EnableNFTables: true: flanneld then runs its
// nftables mode, whose start cleans the iptables mode up (ClearAndDeleteChain nat
// FLANNEL-POSTRTG: a flush of our chain at each of its starts).
std::optional<std::string> mode_mismatch_warning(Mode mode, const std::optional<NetConf>& net_conf,
                                                 const std::string& net_conf_path);

}  // namespace fnft::state
