#include "netns-tests/daemon_process.hpp"

namespace fnft::netns_test {

DaemonProcess::DaemonProcess(const FlannelNode& node, const std::string& subnet_file,
                             const std::string& net_conf_file, std::vector<std::string> options,
                             std::string log_file, std::vector<std::string> wrapper)
    : process_(
          [&] {
            wrapper.insert(wrapper.end(), {FNFT_BINARY, "run", "--subnet-file=" + subnet_file,
                                           "--net-config-path=" + net_conf_file});
            wrapper.insert(wrapper.end(), options.begin(), options.end());
            return in_namespace(node.node(), std::move(wrapper));
          }(),
          std::move(log_file)) {}

bool DaemonProcess::wait_for_log(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
  return eventually([&] { return log().find(needle) != std::string::npos; }, timeout);
}

std::vector<std::string> DaemonProcess::log_lines(const std::string& needle) const {
  return lines_containing(log(), needle);
}

}  // namespace fnft::netns_test
