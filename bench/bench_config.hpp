// The node both benchmarks configure: dual-stack, one lease per family, as flanneld would
// write it. Built in code for the in-process paths and as files for the daemon.
#pragma once

#include <filesystem>
#include <string>

#include "state/config.hpp"

namespace fnft::bench {

// 10.244.0.0/16 lease 10.244.1.0/24; fd00:10:244::/56 lease fd00:10:244:1::/64; flanneld's
// default rule options.
state::NodeConfig dual_stack_config();

// The same node as flanneld's own files; the daemon parses these into dual_stack_config().
std::string dual_stack_subnet_env();
std::string dual_stack_net_conf_json();

// A private directory under $TMPDIR (or /tmp) removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/name and returns that path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace fnft::bench
