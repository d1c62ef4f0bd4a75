#include "state/config_parse.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "state/config_text.hpp"

// Resolving subnet.env and net-conf.json into one NodeConfig; each file's parser is
// state/subnet_env_parse.cpp and state/net_conf_parse.cpp.

namespace fnft::state {
namespace {

using namespace config_text;

// ---- resolving both files -------------------------------------------------------------------

// Everything about one address family that the two files say, and how to name it.
struct FamilySources {
  Family family;
  const std::optional<Cidr>& env_network;
  const std::optional<Cidr>& env_lease;
  std::string_view env_network_key;
  std::string_view env_lease_key;
  const std::optional<Cidr>* conf_network;  // null in etcd mode
  std::string_view conf_network_key;
  std::string_view enabled_by_conf;  // why net-conf enables this family
  std::string_view network_example;
  std::string_view lease_example;
};

class FamilyResolver {
 public:
  FamilyResolver(const FamilySources& sources, const std::string& env_path,
                 const std::string& conf_path)
      : s_(sources), env_path_(env_path), conf_path_(conf_path) {}

  FamilyNetworks resolve() const {
    const Cidr cluster = cluster_network();
    if (!s_.env_lease) {
      fail_env(s_.env_lease_key, "missing",
               "this node's " + family() + " lease, e.g. " + std::string(s_.env_lease_key) + "=" +
                   std::string(s_.lease_example) + " " + enabled_because());
    }
    if (!cluster.contains(*s_.env_lease)) {
      fail_env(s_.env_lease_key,
               "lease " + s_.env_lease->to_string() + " is outside the " + family() +
                   " cluster network " + cluster.to_string() + " (from " + cluster_source() + ")",
               "a lease inside " + cluster.to_string());
    }
    return {cluster, *s_.env_lease};
  }

 private:
  std::string family() const { return std::string(family_name(s_.family)); }

  bool conf_has_network() const { return s_.conf_network && s_.conf_network->has_value(); }

  Cidr cluster_network() const {
    if (s_.env_network && conf_has_network() && *s_.env_network != **s_.conf_network) {
      fail_env(s_.env_network_key,
               s_.env_network->to_string() + " disagrees with " + conf_path_ + ": " +
                   std::string(s_.conf_network_key) + ": " + (*s_.conf_network)->to_string(),
               "the same " + family() + " cluster network in both files (fix one of them)");
    }
    if (s_.env_network) return *s_.env_network;
    if (conf_has_network()) return **s_.conf_network;
    const std::string example = std::string(s_.env_network_key) + "=" +
                                std::string(s_.network_example) + " " + enabled_because();
    if (s_.conf_network) {
      fail_env(s_.env_network_key,
               "missing, and " + conf_path_ + " has no " + std::string(s_.conf_network_key),
               "the " + family() + " cluster network in one of them, e.g. " + example);
    }
    fail_env(s_.env_network_key, "missing",
             "the " + family() + " cluster network, e.g. " + example);
  }

  std::string cluster_source() const {
    if (s_.env_network) return env_path_ + ": " + std::string(s_.env_network_key);
    return conf_path_ + ": " + std::string(s_.conf_network_key);
  }

  std::string enabled_because() const {
    if (s_.conf_network) {
      return "(" + family() + " is enabled by " + conf_path_ + ": " +
             std::string(s_.enabled_by_conf) + ")";
    }
    const auto present = s_.env_network ? s_.env_network_key : s_.env_lease_key;
    return "(" + family() + " is enabled because " + env_path_ + " has " + std::string(present) +
           " and there is no net-conf.json)";
  }

  [[noreturn]] void fail_env(std::string_view key, const std::string& what,
                             const std::string& expected) const {
    fail(env_path_ + ": " + std::string(key) + ": " + what + "; expected " + expected);
  }

  const FamilySources& s_;
  const std::string& env_path_;
  const std::string& conf_path_;
};

}  // namespace

NodeConfig resolve_node_config(const SubnetEnv& subnet_env, const std::string& subnet_env_path,
                               const std::optional<NetConf>& net_conf,
                               const std::string& net_conf_path, const RuleOptions& options) {
  const bool ipv4 = net_conf ? net_conf->enable_ipv4 : subnet_env.network || subnet_env.subnet;
  const bool ipv6 =
      net_conf ? net_conf->enable_ipv6 : subnet_env.ipv6_network || subnet_env.ipv6_subnet;
  if (!ipv4 && !ipv6) {
    if (net_conf) {
      fail(net_conf_path +
           ": EnableIPv4, EnableIPv6: both false; expected at least one address family enabled");
    }
    fail(subnet_env_path +
         ": FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK: neither is set and there is no net-conf.json; "
         "expected at least one network, e.g. FLANNEL_NETWORK=10.244.0.0/16");
  }

  NodeConfig config;
  config.options = options;
  if (ipv4) {
    const FamilySources sources{Family::ipv4,      subnet_env.network,
                                subnet_env.subnet, "FLANNEL_NETWORK",
                                "FLANNEL_SUBNET",  net_conf ? &net_conf->network : nullptr,
                                "Network",         "EnableIPv4 is true or absent",
                                "10.244.0.0/16",   "10.244.1.1/24"};
    config.ipv4 = FamilyResolver(sources, subnet_env_path, net_conf_path).resolve();
  }
  if (ipv6) {
    const FamilySources sources{
        Family::ipv6,           subnet_env.ipv6_network,
        subnet_env.ipv6_subnet, "FLANNEL_IPV6_NETWORK",
        "FLANNEL_IPV6_SUBNET",  net_conf ? &net_conf->ipv6_network : nullptr,
        "IPv6Network",          "EnableIPv6 is true",
        "fd00:10:244::/56",     "fd00:10:244:1::1/64"};
    config.ipv6 = FamilyResolver(sources, subnet_env_path, net_conf_path).resolve();
  }
  return config;
}

Mode resolve_mode(std::optional<Mode> flag, const std::optional<NetConf>& net_conf) {
  if (flag) return *flag;
  if (net_conf && net_conf->enable_nftables) return Mode::nftables;
  return Mode::iptables;
}

}  // namespace fnft::state
