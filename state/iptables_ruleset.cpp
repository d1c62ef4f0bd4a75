#include "state/iptables_ruleset.hpp"

namespace fnft::state {
namespace {

constexpr std::string_view kMasqComment = kIptablesMasqComment;
constexpr std::string_view kForwardComment = kIptablesForwardComment;

std::vector<std::string> with_comment(std::vector<std::string> matches, std::string_view comment,
                                      std::vector<std::string> target) {
  matches.insert(matches.end(), {"-m", "comment", "--comment", std::string(comment)});
  matches.insert(matches.end(), target.begin(), target.end());
  return matches;
}

IptablesTable nat_table(Family family, const FamilyNetworks& net, const RuleOptions& options) {
  const std::string cluster = net.cluster.to_string();
  const std::string lease = net.lease.to_string();
  const std::string multicast = family == Family::ipv4 ? "224.0.0.0/4" : "ff00::/8";
  const std::string chain(kIptablesMasqChain);
  std::vector<std::string> masquerade = {"-j", "MASQUERADE"};
  if (options.masq_fully_random) masquerade.push_back("--random-fully");
  const std::vector<std::string> return_ = {"-j", "RETURN"};

  IptablesTable table{"nat", {chain}, {}};
  table.rules = {
      {"POSTROUTING", with_comment({}, kMasqComment, {"-j", chain})},
      {chain, with_comment({"-m", "mark", "--mark", "0x4000/0x4000"}, kMasqComment, return_)},
      {chain, with_comment({"-s", lease, "-d", cluster}, kMasqComment, return_)},
      {chain, with_comment({"-s", cluster, "-d", lease}, kMasqComment, return_)},
      {chain, with_comment({"!", "-s", cluster, "-d", lease}, kMasqComment, return_)},
      {chain, with_comment({"-s", cluster, "!", "-d", multicast}, kMasqComment, masquerade)},
      {chain, with_comment({"!", "-s", cluster, "-d", cluster}, kMasqComment, masquerade)},
  };
  return table;
}

IptablesTable filter_table(const FamilyNetworks& net) {
  const std::string cluster = net.cluster.to_string();
  const std::string chain(kIptablesForwardChain);
  IptablesTable table{"filter", {chain}, {}};
  table.rules = {
      {"FORWARD", with_comment({}, kForwardComment, {"-j", chain})},
      {chain, with_comment({"-s", cluster}, kForwardComment, {"-j", "ACCEPT"})},
      {chain, with_comment({"-d", cluster}, kForwardComment, {"-j", "ACCEPT"})},
  };
  return table;
}

}  // namespace

IptablesRuleset desired_iptables_ruleset(Family family, const FamilyNetworks& networks,
                                         const RuleOptions& options) {
  IptablesRuleset ruleset{family, {}};
  if (options.ip_masq) ruleset.tables.push_back(nat_table(family, networks, options));
  if (options.forward_rules) ruleset.tables.push_back(filter_table(networks));
  return ruleset;
}

std::string to_iptables_line(const IptablesRule& rule) {
  std::string line = "-A " + rule.chain;
  for (std::size_t i = 0; i < rule.args.size(); ++i) {
    const bool is_comment = i > 0 && rule.args[i - 1] == "--comment";
    line += ' ';
    line += is_comment ? "\"" + rule.args[i] + "\"" : rule.args[i];
  }
  return line;
}

std::string to_iptables_restore(const IptablesRuleset& ruleset) {
  std::string text;
  for (const auto& table : ruleset.tables) {
    text += "*" + table.name + "\n";
    for (const auto& chain : table.own_chains) text += ":" + chain + " - [0:0]\n";
    for (const auto& rule : table.rules) text += to_iptables_line(rule) + "\n";
    text += "COMMIT\n";
  }
  return text;
}

std::string to_iptables_restore(const NodeConfig& config) {
  const bool both = config.ipv4 && config.ipv6;
  std::string text;
  if (config.ipv4) {
    if (both) text += "# iptables-restore\n";
    text +=
        to_iptables_restore(desired_iptables_ruleset(Family::ipv4, *config.ipv4, config.options));
  }
  if (config.ipv6) {
    if (both) text += "# ip6tables-restore\n";
    text +=
        to_iptables_restore(desired_iptables_ruleset(Family::ipv6, *config.ipv6, config.options));
  }
  return text;
}

}  // namespace fnft::state
