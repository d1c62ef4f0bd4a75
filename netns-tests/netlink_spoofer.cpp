// netlink_spoofer: a hostile process with CAP_NET_ADMIN in the namespace, sending datagrams
// the kernel never wrote, to the nf_tables multicast group and straight to every netfilter
// netlink socket of the namespace (their ports are listed in /proc/net/netlink). Run in a
// node's namespace with `ip netns exec`.
//
//   netlink_spoofer oversized BYTES
//       one datagram of BYTES bytes (a train of NLMSG_NOOP messages) to each destination
//   netlink_spoofer fake-events
//       a made-up transaction that deletes a rule of table ip flannel-nftd-ipv4 (DELRULE, then
//       NEWGEN naming pid 1), to each destination
//
// Prints "sent N datagram(s) ..., M refused" (sockets connected to the kernel refuse them);
// exit 0, or 1 with the error.
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kNetlinkNetfilter = 12;  // NETLINK_NETFILTER, the "Eth" column

// The ports of the namespace's netfilter sockets other than `own`; the kernel's is 0.
std::vector<std::uint32_t> netfilter_ports(std::uint32_t own) {
  std::ifstream table("/proc/net/netlink");
  std::vector<std::uint32_t> ports;
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string socket;
    int protocol = -1;
    std::uint32_t port = 0;
    fields >> socket >> protocol >> port;
    if (protocol == kNetlinkNetfilter && port != 0 && port != own) ports.push_back(port);
  }
  return ports;
}

void put_message(std::vector<char>& out, std::uint16_t type, std::uint8_t family,
                 const std::function<void(nlmsghdr*)>& attributes = {}) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = type;
  auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  header->nfgen_family = family;
  header->version = NFNETLINK_V0;
  if (attributes) attributes(nlh);
  out.insert(out.end(), buffer.data(), buffer.data() + MNL_ALIGN(nlh->nlmsg_len));
}

std::vector<char> oversized(std::size_t bytes) {
  std::vector<char> out;
  while (out.size() + NLMSG_HDRLEN <= bytes) {
    nlmsghdr noop{};
    noop.nlmsg_len = NLMSG_HDRLEN;
    noop.nlmsg_type = NLMSG_NOOP;
    const auto* raw = reinterpret_cast<const char*>(&noop);
    out.insert(out.end(), raw, raw + sizeof noop);
  }
  out.resize(bytes, 0);
  return out;
}

std::vector<char> fake_events() {
  std::vector<char> out;
  constexpr std::uint16_t kSubsys = NFNL_SUBSYS_NFTABLES << 8;
  put_message(out, kSubsys | NFT_MSG_DELRULE, NFPROTO_IPV4, [](nlmsghdr* nlh) {
    mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "flannel-nftd-ipv4");
    mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "postrtg");
    mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(2));
  });
  put_message(out, kSubsys | NFT_MSG_NEWGEN, AF_UNSPEC, [](nlmsghdr* nlh) {
    mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(424242));
    mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(1));
    mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "spoofer");
  });
  return out;
}

int send_everywhere(const std::vector<char>& datagram) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, kNetlinkNetfilter);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int size = static_cast<int>(datagram.size()) + 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  sockaddr_nl self{};
  self.nl_family = AF_NETLINK;
  socklen_t length = sizeof self;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &length) != 0) {
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  }
  std::vector<sockaddr_nl> destinations;
  sockaddr_nl group{};
  group.nl_family = AF_NETLINK;
  group.nl_groups = 1U << (NFNLGRP_NFTABLES - 1);
  destinations.push_back(group);
  for (const std::uint32_t port : netfilter_ports(self.nl_pid)) {
    sockaddr_nl unicast{};
    unicast.nl_family = AF_NETLINK;
    unicast.nl_pid = port;
    destinations.push_back(unicast);
  }
  int sent = 0;
  int refused = 0;
  for (const auto& to : destinations) {
    if (::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to) < 0) {
      // A socket connected to the kernel takes unicasts from the kernel alone.
      if (errno == ECONNREFUSED) {
        ++refused;
        continue;
      }
      throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
    }
    ++sent;
  }
  ::close(fd);
  std::printf("sent %d datagram(s) of %zu bytes, %d refused\n", sent, datagram.size(), refused);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "oversized") {
      return send_everywhere(oversized(std::stoul(args[1])));
    }
    if (args.size() == 1 && args[0] == "fake-events") return send_everywhere(fake_events());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "netlink_spoofer: %s\n", error.what());
    return 1;
  }
  std::fputs("usage: netlink_spoofer oversized BYTES | fake-events\n", stderr);
  return 2;
}
