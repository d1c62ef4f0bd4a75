// Reads flanneld's files from disk and resolves them into the rules' inputs.
#pragma once

#include <optional>
#include <string>

#include "daemon/options.hpp"
#include "state/config.hpp"
#include "state/config_parse.hpp"

namespace fnft::daemon {

// A ConfigMap holds at most 1 MiB; the parsers apply each file's own tighter limit.
inline constexpr std::size_t kMaxConfigFileSize = 1024 * 1024;

// The file's bytes, or nullopt when it does not exist. Other failures (permission, a
// directory, too large) throw state::ConfigError naming the file.
std::optional<std::string> read_config_file(const std::string& path);

struct LoadedConfig {
  state::NodeConfig node;
  state::Mode mode = state::Mode::iptables;
  std::string mode_reason;  // "--mode=nftables", "/etc/kube-flannel/net-conf.json: EnableNFTables"
  std::optional<state::NetConf> net_conf;
  state::SubnetEnv subnet_env;
};

// Reads both files and resolves them; throws state::ConfigError with a one-line message.
LoadedConfig load_config(const ConfigOptions& options);

}  // namespace fnft::daemon
