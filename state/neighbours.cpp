#include "state/neighbours.hpp"

#include <algorithm>

namespace fnft::state {
namespace {

constexpr std::string_view kCniChainPrefix = "CNI-";
constexpr std::size_t kCniChainHashDigits = 24;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

std::string joined(const std::vector<std::string>& parts, std::size_t at_most) {
  std::string text;
  for (std::size_t i = 0; i < parts.size() && i < at_most; ++i)
    text += (i == 0 ? "" : ", ") + parts[i];
  if (parts.size() > at_most) text += ", ...";
  return text;
}

}  // namespace

std::string describe(const Committer& committer) {
  std::string text = (committer.name.empty() ? std::string("a process") : committer.name) +
                     " (pid " + std::to_string(committer.pid);
  if (!committer.parent_name.empty())
    text +=
        ", started by " + committer.parent_name + " pid " + std::to_string(committer.parent_pid);
  return text + ")";
}

bool started_by_flanneld(const Committer& committer) {
  return committer.parent_name == "flanneld" || committer.name == "flanneld";
}

std::optional<std::string> flanneld_ip_masq_warning(const std::string& subnet_file,
                                                    const SubnetEnv& subnet_env,
                                                    const RuleOptions& options) {
  if (!options.ip_masq || !subnet_env.ip_masq.value_or(false)) return std::nullopt;
  return "flanneld masquerades pod traffic too: " + subnet_file +
         " says FLANNEL_IPMASQ=true, which flanneld writes when it runs with --ip-masq; two "
         "writers of one rule set undo each other. Run flanneld with --ip-masq=false "
         "--iptables-forward-rules=false (kube-flannel.yml: the kube-flannel container's args)";
}

bool is_cni_masquerade_chain(std::string_view chain) {
  if (chain.size() != kCniChainPrefix.size() + kCniChainHashDigits ||
      !chain.starts_with(kCniChainPrefix))
    return false;
  const std::string_view hash = chain.substr(kCniChainPrefix.size());
  return std::all_of(hash.begin(), hash.end(), is_lower_hex);
}

std::optional<std::string> cni_masquerade_warning(const std::vector<std::string>& chains) {
  if (chains.empty()) return std::nullopt;
  return "the CNI bridge plugin masquerades pod traffic itself (\"ipMasq\": true): " +
         std::to_string(chains.size()) + " chain(s) " + joined(chains, 3) +
         ", entered from POSTROUTING for each pod, masquerade everything a pod sends outside "
         "this node's lease, pod-to-remote-pod traffic included, before flannel-nftd's rules "
         "see it. Set \"ipMasq\": false in the delegate of flannel's cni-conf.json "
         "(kube-flannel-cfg; flannel's CNI plugin otherwise sets it to !FLANNEL_IPMASQ, true "
         "with flanneld --ip-masq=false) and re-create the pods";
}

std::string flanneld_nftables_writer_warning(const Committer& committer,
                                             const std::string& object) {
  const bool forward = object.ends_with(" forward");
  return describe(committer) + " wrote flanneld's own " +
         (forward ? "forward rules" : "masquerade") + " (" + object +
         ") beside flannel-nftd's; taken out again. Run flanneld with " +
         (forward ? "--iptables-forward-rules=false" : "--ip-masq=false") +
         " (kube-flannel.yml: the kube-flannel container's args), so that one process writes "
         "these rules";
}

std::string flanneld_iptables_writer_warning(const Committer& committer,
                                             const std::string& object) {
  return describe(committer) + " changed flannel-nftd's iptables rules (" + object +
         "): flanneld writes them too, and its start flushes them before it writes them again. "
         "Run flanneld with --ip-masq=false --iptables-forward-rules=false (kube-flannel.yml: "
         "the kube-flannel container's args)";
}

std::optional<std::string> mode_mismatch_warning(Mode mode, const std::optional<NetConf>& net_conf,
                                                 const std::string& net_conf_path) {
  if (mode != Mode::iptables || !net_conf || !net_conf->enable_nftables) return std::nullopt;
  return "--mode=iptables while " + net_conf_path +
         " says EnableNFTables: true: flanneld runs its nftables mode, and each of its starts "
         "cleans up the iptables mode (`iptables -t nat -F FLANNEL-POSTRTG`), which this "
         "daemon then repairs. Use one mode for both: drop --mode, or set EnableNFTables to false";
}

}  // namespace fnft::state
