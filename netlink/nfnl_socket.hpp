// One netfilter netlink socket (NETLINK_NETFILTER): requests, dumps, batches and, for the
// monitor, multicast events. Owns the fd; every wait is bounded.
#pragma once

#include <linux/netlink.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct mnl_socket;

namespace fnft::netlink {

struct NfnlSocketOptions {
  // For an fd handed to Boost.Asio; the blocking helpers below still work (they poll()).
  bool non_blocking = false;
  // Asked of the kernel with SO_{SND,RCV}BUFFORCE (CAP_NET_ADMIN), else SO_{SND,RCV}BUF, which
  // the kernel caps at net.core.{w,r}mem_max.
  int buffer_bytes = 4 << 20;
  // The longest we wait for the kernel's answer to one request.
  std::chrono::milliseconds reply_timeout{5000};
};

// The ruleset generation and who committed it (NFT_MSG_NEWGEN).
struct Generation {
  std::uint32_t id = 0;
  std::uint32_t pid = 0;     // 0 when the kernel did not say
  std::string process_name;  // comm of that process, "" when the kernel did not say
};

// Parses an NFT_MSG_NEWGEN message (a GETGEN reply or a monitor event); nullopt if malformed.
std::optional<Generation> parse_generation(const nlmsghdr* nlh);

class NfnlSocket {
 public:
  using Options = NfnlSocketOptions;
  using MessageHandler = std::function<void(const nlmsghdr*)>;

  explicit NfnlSocket(Options options = {});
  ~NfnlSocket();
  NfnlSocket(NfnlSocket&&) noexcept;
  NfnlSocket& operator=(NfnlSocket&&) noexcept;
  NfnlSocket(const NfnlSocket&) = delete;
  NfnlSocket& operator=(const NfnlSocket&) = delete;

  int fd() const;
  std::uint32_t portid() const;
  // The first of `count` consecutive sequence numbers, reserved for one request or batch.
  std::uint32_t next_seq(std::uint32_t count = 1) {
    const std::uint32_t first = seq_;
    seq_ += count;
    return first;
  }

  // Joins a multicast group (NFNLGRP_NFTABLES for the monitor). A subscribed socket should not
  // also be used for requests: request()/dump() drop the events that arrive meanwhile.
  void subscribe(unsigned group);

  // Makes sure one datagram of `bytes` can be sent / `bytes` of replies can queue up.
  void ensure_send_buffer(std::size_t bytes);
  void ensure_receive_buffer(std::size_t bytes);

  // One datagram, gathered from `parts`; `what` names it in errors.
  void send(std::span<const iovec> parts, std::string_view what);
  // One datagram into the socket's buffer, waiting at most reply_timeout; `what` names the
  // request we wait for in errors. The view is valid until the next receive.
  std::span<const std::byte> receive(std::string_view what);
  // Like receive() but never waits: an empty span when nothing is queued.
  std::span<const std::byte> receive_now(std::string_view what);

  // Sends `request` (NLM_F_ACK is added) and calls `on_message` for each reply until the ack.
  // Throws NetlinkError naming `what` on an error ack.
  void request(nlmsghdr* request, std::string_view what, const MessageHandler& on_message);
  // Sends a dump `request` and calls `on_message` for each message until NLMSG_DONE. Returns
  // false when the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR: the ruleset
  // changed meanwhile, so what was seen may be inconsistent).
  bool dump(nlmsghdr* request, std::string_view what, const MessageHandler& on_message);

  // Datagrams dropped because another process, not the kernel, sent them (and the netlink
  // port of the last such sender).
  std::uint64_t foreign_datagrams() const { return foreign_datagrams_; }
  std::uint32_t last_foreign_portid() const { return last_foreign_portid_; }

  // NFT_MSG_GETGEN: the current ruleset generation id.
  std::uint32_t read_generation();
  Generation read_generation_info();

 private:
  bool exchange(nlmsghdr* request, std::string_view what, const MessageHandler& on_message);
  std::span<const std::byte> receive_datagram(int flags, std::string_view what);

  struct MnlClose {
    void operator()(mnl_socket* socket) const;
  };
  std::unique_ptr<mnl_socket, MnlClose> socket_;
  Options options_;
  std::uint32_t seq_ = 0;
  std::size_t send_buffer_bytes_ = 0;
  std::size_t receive_buffer_bytes_ = 0;
  std::vector<std::byte> buffer_;
  std::uint64_t foreign_datagrams_ = 0;
  std::uint32_t last_foreign_portid_ = 0;
};

}  // namespace fnft::netlink
