// subnet.env as flanneld (or anyone who can write /run/flannel) leaves it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "state/config_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  try {
    const fnft::state::SubnetEnv parsed =
        fnft::state::parse_subnet_env(content, "/run/flannel/subnet.env");
    fnft::state::RuleOptions options;
    fnft::state::resolve_node_config(parsed, "/run/flannel/subnet.env", std::nullopt,
                                     "/etc/kube-flannel/net-conf.json", options);
  } catch (const fnft::state::ConfigError& error) {
    fnft::fuzz::require_one_line(error.what());
  }
  return 0;
}
