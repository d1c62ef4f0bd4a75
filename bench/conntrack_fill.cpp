#include "bench/conntrack_fill.hpp"

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fnft::bench {
namespace {

struct CloseSocket {
  void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};
struct Destroy {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};

// Reads the errors the kernel sent so far (requests carry no NLM_F_ACK: success is silent).
void drain_errors(mnl_socket* socket, std::vector<char>& buffer, FillResult& result, bool wait) {
  for (;;) {
    const ssize_t got =
        ::recv(mnl_socket_get_fd(socket), buffer.data(), buffer.size(), wait ? 0 : MSG_DONTWAIT);
    if (got <= 0) return;
    wait = false;
    auto* message = reinterpret_cast<nlmsghdr*>(buffer.data());
    auto remaining = static_cast<int>(got);
    for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      if (message->nlmsg_type != NLMSG_ERROR) continue;
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
      if (error->error != 0) ++result.refused;
    }
  }
}

}  // namespace

FillResult fill_conntrack_table(std::uint64_t entries, bool answered) {
  std::unique_ptr<mnl_socket, CloseSocket> socket(mnl_socket_open(NETLINK_NETFILTER));
  if (!socket || mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) != 0) {
    throw std::runtime_error(std::string("cannot open ctnetlink: ") + std::strerror(errno));
  }
  const int big = 8 << 20;
  ::setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  std::unique_ptr<nf_conntrack, Destroy> ct(nfct_new());
  nfct_set_attr_u8(ct.get(), ATTR_L3PROTO, AF_INET);
  nfct_set_attr_u8(ct.get(), ATTR_L4PROTO, IPPROTO_UDP);
  nfct_set_attr_u8(ct.get(), ATTR_REPL_L3PROTO, AF_INET);
  nfct_set_attr_u8(ct.get(), ATTR_REPL_L4PROTO, IPPROTO_UDP);
  nfct_set_attr_u16(ct.get(), ATTR_PORT_DST, htons(53));
  nfct_set_attr_u32(ct.get(), ATTR_TIMEOUT, 3600);
  if (answered) nfct_set_attr_u32(ct.get(), ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);

  FillResult result;
  const auto started = std::chrono::steady_clock::now();
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE * 16);
  std::vector<char> errors(MNL_SOCKET_BUFFER_SIZE);
  std::uint32_t sequence = 0;
  for (std::uint64_t i = 0; i < entries;) {
    std::size_t used = 0;
    // As many requests as fit: the kernel handles every message of one send in turn.
    for (; i < entries && used + 512 <= buffer.size(); ++i) {
      // 172.16.0.0/12 sources with source ports 1024..65023: 1M entries need 16 addresses.
      const auto source = htonl(0xac100000u | static_cast<std::uint32_t>(i / 64000));
      nfct_set_attr_u32(ct.get(), ATTR_IPV4_SRC, source);
      nfct_set_attr_u32(ct.get(), ATTR_IPV4_DST, htonl(0xac1f0001u));
      nfct_set_attr_u16(ct.get(), ATTR_PORT_SRC,
                        htons(static_cast<std::uint16_t>(1024 + i % 64000)));
      // The reply tuple is the original's inverse: no NAT.
      nfct_set_attr_u32(ct.get(), ATTR_REPL_IPV4_SRC, htonl(0xac1f0001u));
      nfct_set_attr_u32(ct.get(), ATTR_REPL_IPV4_DST, source);
      nfct_set_attr_u16(ct.get(), ATTR_REPL_PORT_SRC, htons(53));
      nfct_set_attr_u16(ct.get(), ATTR_REPL_PORT_DST,
                        htons(static_cast<std::uint16_t>(1024 + i % 64000)));
      nlmsghdr* message = mnl_nlmsg_put_header(buffer.data() + used);
      message->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
      message->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
      message->nlmsg_seq = ++sequence;
      auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
      header->nfgen_family = AF_INET;
      header->version = NFNETLINK_V0;
      header->res_id = 0;
      if (nfct_nlmsg_build(message, ct.get()) != 0) {
        throw std::runtime_error("cannot build a conntrack entry message");
      }
      used += NLMSG_ALIGN(message->nlmsg_len);
    }
    if (mnl_socket_sendto(socket.get(), buffer.data(), used) < 0) {
      throw std::runtime_error(std::string("ctnetlink send: ") + std::strerror(errno));
    }
    drain_errors(socket.get(), errors, result, false);
  }
  drain_errors(socket.get(), errors, result, false);
  result.created = entries - result.refused;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace fnft::bench
