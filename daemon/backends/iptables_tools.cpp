#include "daemon/backends/iptables_tools.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fnft::daemon {

IptablesTools iptables_tools(state::IptablesVariant backend, state::Family family) {
  const std::string prefix(state::iptables_family_tool(family));
  const std::string kind = backend == state::IptablesVariant::nft ? "-nft" : "-legacy";
  return {prefix + kind + "-save", prefix + kind + "-restore"};
}

std::vector<std::string> restore_command(const IptablesTools& tools) {
  return {tools.restore, "--noflush", "--wait"};
}

LegacyTables legacy_tables(state::Family family, std::string& why) {
  const char* path =
      family == state::Family::ipv4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names";
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return LegacyTables::none;
    why = std::string("cannot read ") + path + " (" + std::strerror(errno) +
          "), so whether iptables-legacy holds flanneld's rules is unknown";
    return LegacyTables::unknown;
  }
  char first = 0;
  const ssize_t n = ::read(fd, &first, 1);
  const int read_error = errno;
  ::close(fd);
  if (n < 0) {
    why = std::string("cannot read ") + path + " (" + std::strerror(read_error) + ")";
    return LegacyTables::unknown;
  }
  return n == 0 ? LegacyTables::none : LegacyTables::some;
}

std::string tool_failure(const std::vector<std::string>& argv, const ChildResult& result) {
  std::string text = result.describe(argv);
  const bool legacy = argv.at(0).find("-legacy") != std::string::npos;
  if (result.err.find("Permission denied") != std::string::npos ||
      result.err.find("Operation not permitted") != std::string::npos ||
      result.err.find("Address family not supported") != std::string::npos) {
    text += legacy ? ". iptables-legacy needs CAP_NET_ADMIN and CAP_NET_RAW, IP sockets and "
                     "/run/xtables.lock: under systemd, install the iptables-legacy drop-in "
                     "(see README: Running it under systemd)"
                   : ". Run flannel-nftd with CAP_NET_ADMIN in this network namespace";
  } else if (result.err.find("xtables lock") != std::string::npos) {
    text += ". Another iptables tool holds /run/xtables.lock; it is retried";
  }
  return text;
}

}  // namespace fnft::daemon
