// `flannel-nftd run` of a daemon test: a TrackedProcess (testkit/tracked_process.hpp) in the
// node's namespace, with its log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {

// `WRAPPER... flannel-nftd run --subnet-file=... --net-config-path=... OPTIONS...` inside
// `node`'s namespace (`ip netns exec` execs, and so must a wrapper such as `env` or
// `setpriv`, so its pid is the daemon's), logging to `log_file`.
class DaemonProcess {
 public:
  DaemonProcess(const FlannelNode& node, const std::string& subnet_file,
                const std::string& net_conf_file, std::vector<std::string> options,
                std::string log_file, std::vector<std::string> wrapper = {});

  pid_t pid() const { return process_.pid(); }
  TrackedProcess& process() { return process_; }
  std::string log() const { return process_.output(); }
  // Polls the log every 20 ms for at most `timeout`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Lines of the log containing `needle`.
  std::vector<std::string> log_lines(const std::string& needle) const;
  std::string describe() const { return process_.describe(); }

 private:
  TrackedProcess process_;
};

}  // namespace fnft::netns_test
