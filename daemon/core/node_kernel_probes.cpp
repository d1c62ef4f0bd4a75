// NodeDaemon's two questions to the kernel, asked once at start: flowtables (--flowtable) and
// `flags owner, persist` (--protect), with what each answer means for the operator.
#include <spdlog/spdlog.h>

#include "daemon/core/node_daemon.hpp"
#include "netlink/netlink_error.hpp"

namespace fnft::daemon {

void NodeDaemon::probe_fast_path() {
  if (options_.fast_path.flowtable == FlowtableOption::off) return;
  try {
    flowtable_support_ = netlink::probe_flowtables(command_socket_);
  } catch (const netlink::NetlinkError& error) {
    flowtable_support_ = netlink::FlowtableSupport{error.what()};
    if (options_.fast_path.flowtable == FlowtableOption::required) {
      fatal(std::string("--flowtable=required: cannot ask the kernel about flowtables: ") +
            error.what());
      return;
    }
    spdlog::error(
        "--flowtable: cannot ask the kernel about flowtables: {}; running without the "
        "fast path",
        error.what());
    return;
  }
  const auto& support = *flowtable_support_;
  if (!support.available()) {
    if (options_.fast_path.flowtable == FlowtableOption::required) {
      fatal("kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE) and --flowtable=required: " +
            support.unavailable +
            ". Use a kernel with CONFIG_NF_FLOW_TABLE and CONFIG_NFT_FLOW_OFFLOAD, or "
            "--flowtable=on to run without the fast path where it is missing");
      return;
    }
    spdlog::warn(
        "kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE): running without the "
        "fast path");
    spdlog::debug("the kernel's answer to a flowtable: {}", support.unavailable);
    return;
  }
  spdlog::info("flowtables available: offloaded packets {}; devices bound {}",
               support.counter ? "counted by conntrack (flags counter)"
                               : "not counted (the kernel lacks flags counter)",
               support.name_based_hooks ? "by name (names of deleted devices are pruned)"
                                        : "while they exist");
}

void NodeDaemon::probe_protection() {
  if (options_.protect == ProtectOption::off || exit_code_ != kExitOk) return;
  const bool required = options_.protect == ProtectOption::on;
  std::optional<std::string> refused;
  try {
    refused = netlink::table_protection_refused(command_socket_);
  } catch (const netlink::NetlinkError& error) {
    if (required) {
      fatal(std::string("--protect=on: cannot ask the kernel about table protection: ") +
            error.what());
    } else {
      spdlog::error(
          "--protect: cannot ask the kernel about table protection: {}; running "
          "without it",
          error.what());
      protection_ = std::string("unknown (") + error.what() + ")";
    }
    return;
  }
  if (refused) {
    if (required) {
      fatal(
          "--protect=on: this kernel cannot hold a table for one process and keep it after "
          "that process exits (`flags owner, persist`, Linux 6.9 or later): " +
          *refused + ". Use --protect=auto to repair changes as they happen instead");
      return;
    }
    spdlog::info(
        "kernel lacks table protection (`flags owner, persist`, Linux 6.9+): other "
        "processes' changes to our tables are repaired as they happen");
    protection_ = "unavailable (the kernel lacks flags owner, persist: Linux 6.9+)";
    return;
  }
  protect_ = true;
  protection_ = "on";
  spdlog::info(
      "nftables tables protected by the kernel (`flags owner, persist`): only this "
      "daemon can change them, and they stay in place when it exits");
}

}  // namespace fnft::daemon
