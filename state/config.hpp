// flannel's node configuration as read from its own files, and our own rule options.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/cidr.hpp"

namespace fnft::state {

// What /run/flannel/subnet.env says (written by flanneld for each lease).
struct SubnetEnv {
  std::optional<Cidr> network;       // FLANNEL_NETWORK
  std::optional<Cidr> subnet;        // FLANNEL_SUBNET, host bits cleared
  std::optional<Cidr> ipv6_network;  // FLANNEL_IPV6_NETWORK
  std::optional<Cidr> ipv6_subnet;   // FLANNEL_IPV6_SUBNET, host bits cleared
  std::optional<int> mtu;            // FLANNEL_MTU
  std::optional<bool> ip_masq;       // FLANNEL_IPMASQ (informational only)
  friend bool operator==(const SubnetEnv&, const SubnetEnv&) = default;
};

// What net-conf.json says (the kube-flannel ConfigMap), with flanneld's defaults applied.
struct NetConf {
  std::optional<Cidr> network;       // "Network"
  std::optional<Cidr> ipv6_network;  // "IPv6Network"
  bool enable_ipv4 = true;           // "EnableIPv4"
  bool enable_ipv6 = false;          // "EnableIPv6"
  bool enable_nftables = false;      // "EnableNFTables"
  std::string backend_type;          // "Backend": {"Type": ...}, informational
  friend bool operator==(const NetConf&, const NetConf&) = default;
};

enum class Mode { nftables, iptables };

// Our own switches; defaults are flanneld's.
struct RuleOptions {
  bool ip_masq = true;            // --ip-masq
  bool forward_rules = true;      // --forward-rules
  bool masq_fully_random = true;  // cleared by --ip-masq-fully-random-disable
  friend bool operator==(const RuleOptions&, const RuleOptions&) = default;
};

// One address family's inputs to the rules: $C and $P of docs/design.md.
struct FamilyNetworks {
  Cidr cluster;  // $C
  Cidr lease;    // $P, host bits cleared
  friend bool operator==(const FamilyNetworks&, const FamilyNetworks&) = default;
};

// The resolved configuration the rules are built from.
struct NodeConfig {
  std::optional<FamilyNetworks> ipv4;  // present when IPv4 is enabled
  std::optional<FamilyNetworks> ipv6;  // present when IPv6 is enabled
  RuleOptions options;
  friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// The flowtable fast path (`--flowtable`) as the node's links ask for it: present only when
// it is enabled and the kernel has flowtables.
struct FastPath {
  std::vector<std::string> devices;  // sorted, each once: what the flowtable binds to
  bool counter = false;              // the kernel keeps counting offloaded packets
  friend bool operator==(const FastPath&, const FastPath&) = default;
};

// Everything the rules are built from: the configuration, and what the node's links add.
struct Target {
  NodeConfig config;
  std::optional<FastPath> fast_path;
  // `--protect`: the nftables tables are held with `flags owner, persist` (Protection::held).
  bool protect = false;
  friend bool operator==(const Target&, const Target&) = default;
};

}  // namespace fnft::state
