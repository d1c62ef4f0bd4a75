// `flannel-nftd doctor`: what on this node would break or weaken pod traffic, judged from
// what was read of it (pure: the reading is daemon/cli/doctor_command.cpp's). Each finding says
// what, the evidence (the exact chain, sysctl or file) and what to do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/config.hpp"
#include "state/iptables_variant.hpp"

namespace fnft::state {

struct Finding {
  enum class Severity : std::uint8_t { error, warning };
  Severity severity = Severity::error;
  std::string what;
  std::string evidence;
  std::string action;
};

// A base chain of any table, as the kernel holds it.
struct ForeignBaseChain {
  std::string family;  // "ip", "ip6", "inet"
  std::string table;
  std::string chain;
  std::string type;  // "filter", "nat"
  std::string hook;  // "forward", "postrouting"
  std::int32_t priority = 0;
  bool policy_drop = false;
  bool masquerades = false;
  bool drops = false;
};

struct NodeReading {
  Mode mode = Mode::nftables;
  std::optional<NodeConfig> config;           // absent: the config files could not be used
  std::string config_problem;                 // why, when absent
  std::vector<ForeignBaseChain> base_chains;  // every base chain but our own tables'
  IptablesContents iptables_nft;
  IptablesContents iptables_legacy;
  std::optional<bool> flanneld_ip_masq;  // FLANNEL_IPMASQ in subnet.env
  std::string subnet_file;
  std::optional<int> ip_forward;               // net.ipv4.ip_forward
  std::optional<int> ipv6_forwarding;          // net.ipv6.conf.all.forwarding
  std::optional<int> bridge_nf_call_iptables;  // absent: br_netfilter not loaded
  // rp_filter of each flannel device present: the effective value, max(all, device).
  std::vector<std::pair<std::string, int>> rp_filter;
  std::optional<std::uint64_t> conntrack_count;
  std::optional<std::uint64_t> conntrack_max;
  // Connections that met a moment without masquerade and stay broken (state/conntrack_repair:
  // no source NAT, never answered, masqueraded by the rules now), by family name; absent
  // when the conntrack table could not be read.
  std::optional<std::vector<std::pair<std::string, std::uint64_t>>> unmasqueraded_connections;
  // Our rules against the desired ones: absent when they match, else the difference (nft or
  // iptables-save lines, "-" desired, "+" held).
  std::optional<std::string> rules_difference;
};

std::vector<Finding> diagnose(const NodeReading& node);

}  // namespace fnft::state
