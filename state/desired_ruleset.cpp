#include "state/desired_ruleset.hpp"

namespace fnft::state {
namespace {

Cidr multicast_range(Family family) {
  Cidr range;
  range.family = family;
  if (family == Family::ipv4) {
    range.address[0] = 224;  // 224.0.0.0/4
    range.prefix_length = 4;
  } else {
    range.address[0] = 0xff;  // ff00::/8
    range.prefix_length = 8;
  }
  return range;
}

Match saddr(const Cidr& prefix, bool negated = false) {
  return AddressMatch{AddressField::saddr, negated, prefix};
}
Match daddr(const Cidr& prefix, bool negated = false) {
  return AddressMatch{AddressField::daddr, negated, prefix};
}

Rule rule(std::vector<Match> matches, Action action, std::string comment) {
  return Rule{std::move(matches), /*counter=*/true, std::move(action), std::move(comment)};
}

Action verdict(Action::Kind kind) {
  return Action{kind, false, {}};
}

// The iptables mode's FLANNEL-POSTRTG, which nftables mode must equal (docs/design.md "The
// ruleset").
Chain postrouting_chain(Family family, const FamilyNetworks& net, const RuleOptions& options) {
  const Cidr& cluster = net.cluster;
  const Cidr& lease = net.lease;
  const Action masquerade{Action::Kind::masquerade, options.masq_fully_random, {}};
  const Action return_ = verdict(Action::Kind::return_);
  Chain chain{std::string(kPostroutingChainName),
              BaseChain{ChainType::nat, Hook::postrouting, kPrioritySrcNat, Policy::accept},
              {}};
  // A mask test, as iptables' `--mark 0x4000/0x4000`: kube-proxy may set other mark bits too.
  chain.rules.push_back(rule({MarkMatch{kKubeProxyMasqueradeMark, kKubeProxyMasqueradeMark}},
                             return_, "kube-proxy marked: masqueraded by kube-proxy"));
  chain.rules.push_back(
      rule({saddr(lease), daddr(cluster)}, return_, "pod subnet to cluster: no masquerade"));
  chain.rules.push_back(
      rule({saddr(cluster), daddr(lease)}, return_, "cluster to pod subnet: no masquerade"));
  // iptables' `! -s $C -d $P`: external traffic arriving for our pods keeps its source.
  // (Upstream's nftables mode has `saddr != $P` here, which makes the last rule unreachable.)
  chain.rules.push_back(
      rule({saddr(cluster, true), daddr(lease)}, return_, "outside to pod subnet: no masquerade"));
  chain.rules.push_back(rule({saddr(cluster), daddr(multicast_range(family), true)}, masquerade,
                             "cluster to outside: masquerade"));
  chain.rules.push_back(
      rule({saddr(cluster, true), daddr(cluster)}, masquerade, "host to cluster: masquerade"));
  return chain;
}

Chain forward_chain(const FamilyNetworks& net, const RuleOptions& options, bool fast_path) {
  Chain chain{std::string(kForwardChainName),
              BaseChain{ChainType::filter, Hook::forward, kPriorityFilter, Policy::accept},
              {}};
  if (fast_path) {
    // One rule covers pod traffic either way: every flow with a pod at one end has packets
    // whose source is in the cluster network (the pod's, before masquerade), and `flow add`
    // offloads both directions of it.
    chain.rules.push_back(rule({saddr(net.cluster), CtStateMatch{kCtStateEstablished}},
                               Action{Action::Kind::offload, false, std::string(kFlowtableName)},
                               "fast path: established pod traffic"));
  }
  if (options.forward_rules) {
    chain.rules.push_back(
        rule({saddr(net.cluster)}, verdict(Action::Kind::accept), "forward from cluster"));
    chain.rules.push_back(
        rule({daddr(net.cluster)}, verdict(Action::Kind::accept), "forward to cluster"));
  }
  return chain;
}

void add_family(Ruleset& ruleset, Family family, const std::optional<FamilyNetworks>& net,
                const RuleOptions& options, const std::optional<FastPath>& fast_path,
                Protection protection) {
  if (!net || (!options.ip_masq && !options.forward_rules && !fast_path)) return;
  Table table{family, std::string(table_name(family)), {}, {}, protection};
  if (fast_path) {
    table.flowtables.push_back(Flowtable{std::string(kFlowtableName), kPriorityFilter,
                                         fast_path->devices, fast_path->counter});
  }
  if (options.ip_masq) table.chains.push_back(postrouting_chain(family, *net, options));
  if (options.forward_rules || fast_path) {
    table.chains.push_back(forward_chain(*net, options, fast_path.has_value()));
  }
  ruleset.tables.push_back(std::move(table));
}

}  // namespace

std::string_view table_name(Family family) {
  return family == Family::ipv4 ? kIpv4TableName : kIpv6TableName;
}

Ruleset desired_nft_ruleset(const NodeConfig& config, const std::optional<FastPath>& fast_path,
                            Protection protection) {
  Ruleset ruleset;
  add_family(ruleset, Family::ipv4, config.ipv4, config.options, fast_path, protection);
  add_family(ruleset, Family::ipv6, config.ipv6, config.options, fast_path, protection);
  return ruleset;
}

}  // namespace fnft::state
