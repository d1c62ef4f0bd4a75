// net-conf.json as the kube-flannel ConfigMap (anyone who can edit it) provides it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "state/config_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  constexpr const char* kPath = "/etc/kube-flannel/net-conf.json";
  try {
    const fnft::state::NetConf net_conf = fnft::state::parse_net_conf(content, kPath);
    fnft::state::resolve_mode(std::nullopt, net_conf);
    const fnft::state::SubnetEnv lease = fnft::state::parse_subnet_env(
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n", "/run/flannel/subnet.env");
    fnft::state::RuleOptions options;
    fnft::state::resolve_node_config(lease, "/run/flannel/subnet.env", net_conf, kPath, options);
  } catch (const fnft::state::ConfigError& error) {
    fnft::fuzz::require_one_line(error.what());
  }
  return 0;
}
