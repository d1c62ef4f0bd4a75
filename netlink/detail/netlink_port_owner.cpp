#include "netlink/detail/netlink_port_owner.hpp"

#include <linux/netlink.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fnft::netlink {
namespace {

// /proc/net/netlink: "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode", one socket a line;
// Pid is the port.
std::optional<unsigned long> socket_inode(std::uint32_t portid) {
  std::ifstream table("/proc/net/netlink");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string sk;
    int protocol = -1;
    std::uint32_t port = 0;
    std::string groups, rmem, wmem, dump, locks, drops;
    unsigned long inode = 0;
    if (!(fields >> sk >> protocol >> port >> groups >> rmem >> wmem >> dump >> locks >> drops >>
          inode)) {
      continue;
    }
    if (protocol == NETLINK_NETFILTER && port == portid) return inode;
  }
  return std::nullopt;
}

bool all_digits(const std::string& text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

}  // namespace

std::optional<PortOwner> netfilter_port_owner(std::uint32_t portid) {
  const auto inode = socket_inode(portid);
  if (!inode) return std::nullopt;
  const std::string wanted = "socket:[" + std::to_string(*inode) + "]";
  std::error_code error;
  for (const auto& process : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid = process.path().filename().string();
    if (!all_digits(pid)) continue;
    std::error_code fd_error;
    for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", fd_error)) {
      std::error_code link_error;
      if (std::filesystem::read_symlink(fd.path(), link_error).string() != wanted) continue;
      PortOwner owner{std::stoi(pid), {}};
      std::ifstream comm(process.path() / "comm");
      std::getline(comm, owner.name);
      return owner;
    }
  }
  return std::nullopt;
}

std::string describe_netfilter_port(std::uint32_t portid) {
  std::string text = "netlink port " + std::to_string(portid);
  if (const auto owner = netfilter_port_owner(portid)) {
    text += ": " + owner->name + ", pid " + std::to_string(owner->pid);
  }
  return text;
}

}  // namespace fnft::netlink
