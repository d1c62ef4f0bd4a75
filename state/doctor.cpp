#include "state/doctor.hpp"

#include <algorithm>

#include "state/desired_ruleset.hpp"
#include "state/flanneld_tables.hpp"

namespace fnft::state {
namespace {

using Severity = Finding::Severity;

std::string clusters(const NodeReading& node) {
  if (!node.config) return "the cluster network";
  std::string text;
  if (node.config->ipv4) text += node.config->ipv4->cluster.to_string();
  if (node.config->ipv6)
    text += (text.empty() ? "" : ", ") + node.config->ipv6->cluster.to_string();
  return text.empty() ? "the cluster network" : text;
}

std::string chain_name(const ForeignBaseChain& chain) {
  return "table " + chain.family + " " + chain.table + " chain " + chain.chain + " (type " +
         chain.type + " hook " + chain.hook + " priority " + std::to_string(chain.priority) + ")";
}

bool family_carries(const NodeReading& node, const std::string& family) {
  if (!node.config) return true;
  if (family == "ip") return node.config->ipv4.has_value();
  if (family == "ip6") return node.config->ipv6.has_value();
  return family == "inet";
}

// flanneld's own nftables chains (its --ip-masq, its --iptables-forward-rules) in its own
// table: a second writer of the rules flannel-nftd keeps, which the daemon takes out while it
// runs and flanneld writes again at each start.
bool judge_flanneld_chain(const ForeignBaseChain& chain, std::vector<Finding>& findings) {
  const bool flanneld_table = (chain.family == "ip" && chain.table == kFlanneldIpv4TableName) ||
                              (chain.family == "ip6" && chain.table == kFlanneldIpv6TableName);
  const bool masquerade = chain.chain == kPostroutingChainName;
  if (!flanneld_table || (!masquerade && chain.chain != kForwardChainName)) return false;
  findings.push_back(
      {Severity::warning,
       masquerade ? "flanneld masquerades pod traffic itself (its --ip-masq, nftables mode)"
                  : "flanneld keeps forward accept rules itself (its --iptables-forward-rules, "
                    "nftables mode)",
       chain_name(chain),
       std::string("run flanneld with ") +
           (masquerade ? "--ip-masq=false" : "--iptables-forward-rules=false") +
           " (kube-flannel.yml: the kube-flannel container's args); flannel-nftd takes this "
           "chain out while it runs, and flanneld writes it again at each start"});
  return true;
}

void judge_base_chains(const NodeReading& node, std::vector<Finding>& findings) {
  const std::string pods = clusters(node);
  for (const auto& chain : node.base_chains) {
    if (!family_carries(node, chain.family)) continue;
    if (judge_flanneld_chain(chain, findings)) continue;
    // In the iptables mode our accept rules live in filter FORWARD itself, so its drop
    // policy is what they override.
    const bool ours_beside =
        node.mode == Mode::iptables && chain.table == "filter" && chain.chain == "FORWARD";
    if (chain.hook == "forward" && chain.policy_drop && !ours_beside) {
      std::string evidence = chain_name(chain) + " has policy drop";
      if (node.bridge_nf_call_iptables.value_or(0) == 1)
        evidence +=
            "; br_netfilter's bridge-nf-call-iptables=1 puts even pod-to-pod traffic on "
            "one node through it";
      findings.push_back(
          {Severity::error,
           "another table's forward chain drops pod traffic: an accept in flannel's table does "
           "not stop another table from dropping (Docker sets iptables FORWARD policy DROP)",
           evidence,
           "accept pod traffic there too (e.g. `iptables -I FORWARD -s " + pods +
               " -j ACCEPT` and `-d`), or set that chain's policy to accept"});
    } else if (chain.hook == "forward" && chain.drops && !ours_beside) {
      findings.push_back({Severity::warning,
                          "another table's forward chain has drop or reject rules",
                          chain_name(chain) + " drops or rejects some traffic",
                          "check they cannot match pod traffic (" + pods + "): `nft list chain " +
                              chain.family + " " + chain.table + " " + chain.chain + "`"});
    }
    if (chain.type == "nat" && chain.hook == "postrouting" && chain.masquerades &&
        chain.priority <= 100) {
      findings.push_back(
          {Severity::warning,
           "another table masquerades at the postrouting hook before or beside flannel's",
           chain_name(chain) + " has a masquerade rule; flannel's runs at priority srcnat (100)",
           "make sure it does not match pod traffic (" + pods +
               "), or pods may leave with the "
               "wrong address or be masqueraded to the cluster: `nft list chain " +
               chain.family + " " + chain.table + " " + chain.chain + "`"});
    }
  }
}

std::string saved_chains_of(const IptablesContents& contents, const std::string& prefix,
                            bool masquerading_only) {
  std::string found;
  for (const auto& family : contents.families) {
    for (const auto& table : family.tables) {
      for (const auto& chain : table.chains) {
        if (chain.name.rfind(prefix, 0) != 0) continue;
        if (masquerading_only) {
          const auto rules = table.rules_of(chain.name);
          if (std::none_of(rules.begin(), rules.end(),
                           [](const SavedRule* rule) { return rule->target == "MASQUERADE"; }))
            continue;
        }
        found += (found.empty() ? "" : ", ") + table.name + " " + chain.name;
      }
    }
  }
  return found;
}

void judge_iptables(const NodeReading& node, std::vector<Finding>& findings) {
  const std::string in_legacy = other_iptables_warning(IptablesVariant::nft, node.iptables_legacy);
  const std::string in_nft = other_iptables_warning(IptablesVariant::legacy, node.iptables_nft);
  if (!in_legacy.empty() && !in_nft.empty()) {
    findings.push_back(
        {Severity::error,
         "iptables-legacy and iptables-nft both hold flannel or kube-proxy rules: "
         "the kernel runs both, and rules in one look present but may never match",
         in_legacy + "; " + in_nft,
         "keep one: `flannel-nftd cleanup --mode=iptables` removes flannel's from "
         "both; make kube-proxy and kubelet use the same iptables (iptables-wrappers)"});
  }
  for (const auto& family : node.iptables_legacy.families) {
    const SavedTable* filter = family.find_table("filter");
    const SavedChain* forward = filter != nullptr ? filter->find_chain("FORWARD") : nullptr;
    if (forward == nullptr || forward->policy != "DROP") continue;
    findings.push_back({Severity::error,
                        "iptables-legacy's FORWARD chain has policy DROP: it runs beside "
                        "nf_tables and drops pod traffic whatever flannel's rules accept",
                        "iptables-legacy-save: :FORWARD DROP",
                        "accept pod traffic in it (`iptables-legacy -I FORWARD -s " +
                            clusters(node) + " -j ACCEPT` and `-d`) or set its policy to ACCEPT"});
    break;
  }
  std::string cni = saved_chains_of(node.iptables_nft, "CNI-", true);
  const std::string cni_legacy = saved_chains_of(node.iptables_legacy, "CNI-", true);
  if (!cni_legacy.empty()) cni += (cni.empty() ? "" : ", ") + cni_legacy + " (legacy)";
  if (!cni.empty()) {
    findings.push_back({Severity::warning,
                        "the CNI bridge plugin masquerades pod traffic too (`ipMasq: true`): two "
                        "writers of the same masquerade",
                        "iptables chains " + cni,
                        "set `\"ipMasq\": false` in the CNI configuration (flannel's cni-conf "
                        "sets it false) and let flannel-nftd masquerade"});
  }
}

void judge_kernel_settings(const NodeReading& node, std::vector<Finding>& findings) {
  if (node.ip_forward && *node.ip_forward == 0 && (!node.config || node.config->ipv4)) {
    findings.push_back({Severity::error, "IPv4 forwarding is off: the node routes no pod traffic",
                        "net.ipv4.ip_forward = 0",
                        "sysctl -w net.ipv4.ip_forward=1 (and persist "
                        "it in /etc/sysctl.d)"});
  }
  if (node.ipv6_forwarding && *node.ipv6_forwarding == 0 && node.config && node.config->ipv6) {
    findings.push_back({Severity::error,
                        "IPv6 forwarding is off: the node routes no IPv6 pod "
                        "traffic",
                        "net.ipv6.conf.all.forwarding = 0",
                        "sysctl -w net.ipv6.conf.all.forwarding=1 (and persist it)"});
  }
  for (const auto& [device, value] : node.rp_filter) {
    if (value != 1) continue;
    findings.push_back({Severity::warning,
                        "strict reverse-path filtering on " + device +
                            ": packets from remote pods arriving where the route back differs "
                            "are dropped",
                        "net.ipv4.conf." + device + ".rp_filter (or .all) = 1",
                        "sysctl -w net.ipv4.conf." + device + ".rp_filter=2 (loose)"});
  }
  if (node.conntrack_count && node.conntrack_max && *node.conntrack_max > 0) {
    const double used =
        static_cast<double>(*node.conntrack_count) / static_cast<double>(*node.conntrack_max);
    if (used >= 0.75) {
      findings.push_back({used >= 0.9 ? Severity::error : Severity::warning,
                          "the conntrack table is nearly full: new connections are dropped once "
                          "it is",
                          "nf_conntrack_count " + std::to_string(*node.conntrack_count) +
                              " of nf_conntrack_max " + std::to_string(*node.conntrack_max),
                          "raise net.netfilter.nf_conntrack_max, or find what opens so many "
                          "connections (`conntrack -L`)"});
    }
  }
  if (node.unmasqueraded_connections) {
    std::uint64_t total = 0;
    std::string evidence;
    for (const auto& [family, count] : *node.unmasqueraded_connections) {
      total += count;
      if (count == 0) continue;
      if (!evidence.empty()) evidence += ", ";
      evidence += std::to_string(count) + " " + family;
    }
    if (total > 0) {
      findings.push_back(
          {Severity::warning,
           std::to_string(total) +
               " connection(s) from the cluster network left without masquerade: they were "
               "never answered and stay broken until their conntrack entries expire (UDP 30 s, "
               "a TCP connect 120 s)",
           "conntrack entries without source NAT that the rules now masquerade: " + evidence,
           "`flannel-nftd run` deletes them after its next commit; to clear them now: "
           "`conntrack -D --status UNREPLIED -s <pod address>` for each"});
    }
  }
}

}  // namespace

std::vector<Finding> diagnose(const NodeReading& node) {
  std::vector<Finding> findings;
  if (!node.config) {
    findings.push_back({Severity::error, "the configuration files cannot be used",
                        node.config_problem, "fix the file the message names"});
  }
  if (node.rules_difference) {
    findings.push_back({Severity::error,
                        "flannel's rules in the kernel are missing or differ from the desired ones",
                        *node.rules_difference,
                        "start flannel-nftd (`systemctl start flannel-nftd`), or `flannel-nftd "
                        "apply` once"});
  }
  judge_base_chains(node, findings);
  judge_iptables(node, findings);
  if (node.flanneld_ip_masq.value_or(false)) {
    findings.push_back({Severity::warning,
                        "flanneld masquerades too (its --ip-masq): two writers of the same rules "
                        "that undo each other",
                        node.subnet_file + ": FLANNEL_IPMASQ=true",
                        "run flanneld with --ip-masq=false --iptables-forward-rules=false "
                        "(kube-flannel.yml: the kube-flannel container's args) and let "
                        "flannel-nftd keep those rules"});
  }
  judge_kernel_settings(node, findings);
  return findings;
}

}  // namespace fnft::state
