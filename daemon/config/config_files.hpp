// Reads flanneld's files from disk and resolves them into the rules' inputs.
#pragma once

#include <optional>
#include <string>

#include "daemon/config/options.hpp"
#include "state/config.hpp"
#include "state/config_parse.hpp"

namespace fnft::daemon {

// A ConfigMap holds at most 1 MiB; the parsers apply each file's own tighter limit.
inline constexpr std::size_t kMaxConfigFileSize = 1024 * 1024;

// The system refused to read a file that exists (out of file descriptors or memory, an I/O
// error, a permission): unlike bad content, it may pass without the file changing, so the
// daemon tries again rather than wait for the next change.
class ConfigReadError : public state::ConfigError {
 public:
  using state::ConfigError::ConfigError;
};

// The file's bytes, or nullopt when it does not exist. A failure to open or read it throws
// ConfigReadError; a file that is not one to read (a directory, too large) state::ConfigError;
// both name the file.
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
