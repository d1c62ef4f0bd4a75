// Parsing flanneld's own files (pure: the caller reads the bytes, we judge them).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "state/config.hpp"

namespace fnft::state {

// Every message is one line that names the file, the line or key, the bad value and what
// was expected, e.g.
//   /run/flannel/subnet.env:2: FLANNEL_SUBNET: "10.244.1.1" is not a CIDR (missing
//   "/prefix-length"); expected e.g. 10.244.1.1/24
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// KEY=VALUE lines as flanneld writes them. Blank lines and `#` comments are allowed; CRLF
// endings, unknown FLANNEL_* keys and duplicate keys are errors (flanneld never writes
// them, so they mean the file is not what we think it is). Subnets have host bits cleared.
SubnetEnv parse_subnet_env(std::string_view content, const std::string& path);

// net-conf.json with flanneld's defaults; unknown keys ignored and keys matched without
// regard to case, as Go's encoding/json does.
NetConf parse_net_conf(std::string_view content, const std::string& path);

// Combines both files into the networks the rules use. `net_conf` is optional (etcd mode
// has only subnet.env). Which families are enabled: net-conf's EnableIPv4/EnableIPv6 when
// present, else whichever networks subnet.env names. A network given by both files must
// agree; each enabled family needs a lease inside its network.
NodeConfig resolve_node_config(const SubnetEnv& subnet_env, const std::string& subnet_env_path,
                               const std::optional<NetConf>& net_conf,
                               const std::string& net_conf_path, const RuleOptions& options);

// --mode, else net-conf's EnableNFTables, else iptables (flanneld's default).
Mode resolve_mode(std::optional<Mode> flag, const std::optional<NetConf>& net_conf);

}  // namespace fnft::state
