#include "netlink/nfnl_socket.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "netlink/detail/netlink_ack.hpp"
#include "netlink/detail/nft_attr_names.hpp"
#include "netlink/detail/nl_attributes.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/netlink_messages.hpp"
#include "state/one_line.hpp"

namespace fnft::netlink {
namespace {

// Big enough for a 32 KiB dump datagram and for an error ack that echoes a large request.
constexpr std::size_t kReceiveBufferBytes = 256 * 1024;
// A request without payload: headers and a few attributes.
constexpr std::size_t kRequestBufferBytes = 512;

int socket_buffer_size(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) return 0;
  return value;
}

// The FORCE variants ignore net.core.[rw]mem_max but need CAP_NET_ADMIN; the plain ones are
// capped by those sysctls, which is still better than the default.
std::size_t set_socket_buffer(int fd, int force_option, int option, std::size_t bytes) {
  const int value = bytes > (1u << 30) ? (1 << 30) : static_cast<int>(bytes);
  if (setsockopt(fd, SOL_SOCKET, force_option, &value, sizeof value) != 0) {
    setsockopt(fd, SOL_SOCKET, option, &value, sizeof value);
  }
  return static_cast<std::size_t>(socket_buffer_size(fd, option));
}

}  // namespace

void NfnlSocket::MnlClose::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

NfnlSocket::NfnlSocket(Options options) : options_(options), buffer_(kReceiveBufferBytes) {
  const int flags = SOCK_CLOEXEC | (options.non_blocking ? SOCK_NONBLOCK : 0);
  socket_.reset(mnl_socket_open2(NETLINK_NETFILTER, flags));
  if (!socket_) throw make_error(errno, "open a netfilter netlink socket (NETLINK_NETFILTER)");
  if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    throw make_error(errno, "bind the netfilter netlink socket");
  }
  // Without extended acks the kernel says only "EINVAL", not which attribute or why.
  int on = 1;
  mnl_socket_setsockopt(socket_.get(), NETLINK_EXT_ACK, &on, sizeof on);
  const auto bytes = static_cast<std::size_t>(options.buffer_bytes);
  send_buffer_bytes_ = set_socket_buffer(fd(), SO_SNDBUFFORCE, SO_SNDBUF, bytes);
  receive_buffer_bytes_ = set_socket_buffer(fd(), SO_RCVBUFFORCE, SO_RCVBUF, bytes);
  // Distinct starting points keep a restarted daemon's replies apart from stale ones.
  seq_ = static_cast<std::uint32_t>(std::time(nullptr));
}

NfnlSocket::~NfnlSocket() = default;
NfnlSocket::NfnlSocket(NfnlSocket&&) noexcept = default;
NfnlSocket& NfnlSocket::operator=(NfnlSocket&&) noexcept = default;

int NfnlSocket::fd() const {
  return mnl_socket_get_fd(socket_.get());
}
std::uint32_t NfnlSocket::portid() const {
  return mnl_socket_get_portid(socket_.get());
}

void NfnlSocket::subscribe(unsigned group) {
  int value = static_cast<int>(group);
  if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &value, sizeof value) < 0) {
    throw make_error(errno, "subscribe to netfilter netlink group " + std::to_string(group));
  }
}

void NfnlSocket::ensure_send_buffer(std::size_t bytes) {
  // The kernel refuses a datagram larger than sk_sndbuf minus a little bookkeeping.
  const std::size_t needed = bytes + 1024;
  if (send_buffer_bytes_ >= needed) return;
  send_buffer_bytes_ = set_socket_buffer(fd(), SO_SNDBUFFORCE, SO_SNDBUF, needed);
}

void NfnlSocket::ensure_receive_buffer(std::size_t bytes) {
  if (receive_buffer_bytes_ >= bytes) return;
  receive_buffer_bytes_ = set_socket_buffer(fd(), SO_RCVBUFFORCE, SO_RCVBUF, bytes);
}

void NfnlSocket::send(std::span<const iovec> parts, std::string_view what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr message{};
  message.msg_name = &kernel;
  message.msg_namelen = sizeof kernel;
  message.msg_iov = const_cast<iovec*>(parts.data());
  message.msg_iovlen = parts.size();
  for (;;) {
    if (sendmsg(fd(), &message, 0) >= 0) return;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd waiter{fd(), POLLOUT, 0};
      if (poll(&waiter, 1, static_cast<int>(options_.reply_timeout.count())) > 0) continue;
      throw make_error(ETIMEDOUT, "send " + std::string(what));
    }
    throw make_error(errno, "send " + std::string(what));
  }
}

std::span<const std::byte> NfnlSocket::receive_datagram(int flags, std::string_view what) {
  for (;;) {
    sockaddr_nl sender{};
    iovec part{buffer_.data(), buffer_.size()};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof sender;
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    const ssize_t n = recvmsg(fd(), &message, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      throw make_error(errno, "receive the answer to " + std::string(what));
    }
    // Only the kernel is believed. Any process with CAP_NET_ADMIN in the namespace can send
    // to our portid or to a multicast group we joined, with any size and any content.
    if (sender.nl_pid != 0) {
      ++foreign_datagrams_;
      last_foreign_portid_ = sender.nl_pid;
      continue;
    }
    if ((message.msg_flags & MSG_TRUNC) != 0) {
      throw NetlinkError(EMSGSIZE, "receive " + std::string(what) + ": the kernel sent a " +
                                       "datagram larger than our " +
                                       std::to_string(buffer_.size() / 1024) +
                                       " KiB buffer, and it was cut short; please report this");
    }
    return {buffer_.data(), static_cast<std::size_t>(n)};
  }
}

std::span<const std::byte> NfnlSocket::receive(std::string_view what) {
  for (;;) {
    pollfd waiter{fd(), POLLIN, 0};
    const int ready = poll(&waiter, 1, static_cast<int>(options_.reply_timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw make_error(errno, "wait for the answer to " + std::string(what));
    if (ready == 0) throw make_error(ETIMEDOUT, "wait for the answer to " + std::string(what));
    const auto datagram = receive_datagram(MSG_DONTWAIT, what);
    if (!datagram.empty()) return datagram;
  }
}

std::span<const std::byte> NfnlSocket::receive_now(std::string_view what) {
  return receive_datagram(MSG_DONTWAIT, what);
}

bool NfnlSocket::exchange(nlmsghdr* request, std::string_view what,
                          const MessageHandler& on_message) {
  request->nlmsg_seq = next_seq();
  const iovec part{request, request->nlmsg_len};
  send({&part, 1}, what);
  const bool is_dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  bool consistent = true;
  for (;;) {
    NetlinkMessages messages(receive(what));
    while (const nlmsghdr* nlh = messages.next()) {
      // Stale answers to an earlier request that we gave up on (after an error) are skipped.
      if (nlh->nlmsg_seq != request->nlmsg_seq || nlh->nlmsg_pid != portid()) continue;
      if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0) consistent = false;
      switch (nlh->nlmsg_type) {
        case NLMSG_NOOP: break;
        case NLMSG_OVERRUN: throw make_error(ENOBUFS, std::string(what));
        case NLMSG_ERROR:
        case NLMSG_DONE: {
          const AckInfo ack = parse_ack(nlh);
          if (ack.error != 0) {
            throw make_error(ack.error, std::string(what), describe_ack_details(ack, request));
          }
          if (nlh->nlmsg_type == NLMSG_DONE || !is_dump) return consistent;
          break;
        }
        default: on_message(nlh);
      }
    }
  }
}

void NfnlSocket::request(nlmsghdr* request, std::string_view what,
                         const MessageHandler& on_message) {
  request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  exchange(request, what, on_message);
}

bool NfnlSocket::dump(nlmsghdr* request, std::string_view what, const MessageHandler& on_message) {
  // No NLM_F_ACK: a dump ends with NLMSG_DONE, and the kernel sends no ack after it.
  request->nlmsg_flags = (request->nlmsg_flags & ~NLM_F_ACK) | NLM_F_REQUEST | NLM_F_DUMP;
  return exchange(request, what, on_message);
}

std::optional<Generation> parse_generation(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN)) return std::nullopt;
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nfgenmsg)) return std::nullopt;
  Generation generation;
  bool has_id = false;
  for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NFTA_GEN_ID:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) break;
        generation.id = ntohl(mnl_attr_get_u32(attr));
        has_id = true;
        break;
      case NFTA_GEN_PROC_PID:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
          generation.pid = ntohl(mnl_attr_get_u32(attr));
        break;
      case NFTA_GEN_PROC_NAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
          generation.process_name = state::one_line(mnl_attr_get_str(attr));
        break;
      default: break;
    }
  });
  if (!has_id) return std::nullopt;
  return generation;
}

Generation NfnlSocket::read_generation_info() {
  alignas(nlmsghdr) char buffer[kRequestBufferBytes];
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETGEN, AF_UNSPEC, 0, 0);
  std::optional<Generation> generation;
  const std::string_view what = "read the nftables ruleset generation (NFT_MSG_GETGEN)";
  this->request(request, what, [&](const nlmsghdr* reply) {
    if (auto parsed = parse_generation(reply)) generation = std::move(parsed);
  });
  if (!generation) throw make_error(EBADMSG, what, "no NFTA_GEN_ID in the reply");
  return *generation;
}

std::uint32_t NfnlSocket::read_generation() {
  return read_generation_info().id;
}

}  // namespace fnft::netlink
