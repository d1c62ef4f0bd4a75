#include "netlink/nft_batch.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "netlink/detail/netlink_ack.hpp"
#include "netlink/detail/nft_attr_names.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/netlink_messages.hpp"

namespace fnft::netlink {
namespace {

// One message never exceeds this: NFTA_RULE_EXPRESSIONS is a nest (u16 length) and names and
// userdata are capped at 256 bytes. libnftnl writes attributes without bounds checks, so the
// scratch buffer must be at least this big.
constexpr std::size_t kMaxMessageBytes = 128 * 1024;
// What one queued ack costs in our receive buffer (skb overhead included), generously.
constexpr std::size_t kAckBufferBytes = 2048;

}  // namespace

NftBatch::NftBatch(std::optional<std::uint32_t> generation)
    : generation_(generation), scratch_(kMaxMessageBytes, std::byte{0}) {}

void NftBatch::add(std::uint16_t nft_message_type, std::uint8_t family, std::uint16_t flags,
                   std::string description, const PayloadWriter& write_payload) {
  auto* buffer = reinterpret_cast<char*>(scratch_.data());
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer, nft_message_type, family,
                                        static_cast<std::uint16_t>(flags | NLM_F_ACK), 0);
  write_payload(nlh);
  if (nlh->nlmsg_len > kMaxMessageBytes) std::abort();  // memory is already corrupt
  const std::size_t length = MNL_ALIGN(nlh->nlmsg_len);
  const std::size_t offset = messages_.size();
  messages_.insert(messages_.end(), scratch_.begin(),
                   scratch_.begin() + static_cast<std::ptrdiff_t>(length));
  // libmnl 1.0.4 does not zero attribute padding: keep the scratch buffer all zero so no
  // bytes of the previous message end up in the padding of the next.
  std::fill_n(scratch_.begin(), length, std::byte{0});
  entries_.push_back({offset, std::move(description)});
}

nlmsghdr* NftBatch::message_at(std::size_t index) {
  return reinterpret_cast<nlmsghdr*>(messages_.data() + entries_[index].offset);
}

const nlmsghdr* NftBatch::message(std::size_t index) const {
  return reinterpret_cast<const nlmsghdr*>(messages_.data() + entries_[index].offset);
}

void NftBatch::fail_batch(NfnlSocket& socket, const nlmsghdr* begin, const AckInfo& ack) {
  // The kernel answers a refused batch on BATCH_BEGIN and may still queue acks for the
  // messages (a failed commit); drop them now so they do not confuse the next request.
  while (!socket.receive_now("the acks of a refused nftables batch").empty()) {
  }
  std::string action = "commit the nftables batch of " + std::to_string(size()) + " messages";
  if (generation_) action += " made for ruleset generation " + std::to_string(*generation_);
  if (size() > 0) action += " (first: `" + description(0) + "`)";
  throw make_error(ack.error, action, describe_ack_details(ack, begin));
}

void NftBatch::send(NfnlSocket& socket) {
  transmit(socket, /*commit=*/true);
}

void NftBatch::check(NfnlSocket& socket) {
  transmit(socket, /*commit=*/false);
}

void NftBatch::transmit(NfnlSocket& socket, bool commit) {
  if (empty()) return;  // nothing to commit, and no reason to take the commit mutex
  alignas(nlmsghdr) char begin_buffer[64];
  alignas(nlmsghdr) char end_buffer[64];
  nlmsghdr* begin = nftnl_batch_begin(begin_buffer, socket.next_seq());
  if (generation_) mnl_attr_put_u32(begin, NFNL_BATCH_GENID, htonl(*generation_));
  const std::uint32_t first_seq = socket.next_seq(static_cast<std::uint32_t>(size()));
  for (std::size_t i = 0; i < size(); ++i) {
    message_at(i)->nlmsg_seq = first_seq + static_cast<std::uint32_t>(i);
  }
  nlmsghdr* end = nftnl_batch_end(end_buffer, socket.next_seq());

  const iovec parts[] = {{begin, begin->nlmsg_len},
                         {messages_.data(), messages_.size()},
                         {end, commit ? end->nlmsg_len : 0}};
  // One batch must be one datagram: the kernel's transaction is what one sendmsg carries.
  socket.ensure_send_buffer(begin->nlmsg_len + messages_.size() + end->nlmsg_len);
  socket.ensure_receive_buffer((size() + 2) * kAckBufferBytes);
  const std::string what = "the nftables batch of " + std::to_string(size()) + " messages";
  socket.send(parts, what);

  std::vector<bool> acked(size(), false);
  std::size_t pending = size();
  std::optional<std::size_t> failed;
  AckInfo failure;
  std::size_t failures = 0;
  auto read = [&](std::span<const std::byte> datagram) {
    NetlinkMessages messages(datagram);
    while (const nlmsghdr* nlh = messages.next()) {
      if (nlh->nlmsg_pid != socket.portid() || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const AckInfo ack = parse_ack(nlh);
      if (nlh->nlmsg_seq == begin->nlmsg_seq) {
        if (ack.error != 0) fail_batch(socket, begin, ack);
        continue;
      }
      const std::uint32_t index = nlh->nlmsg_seq - first_seq;  // wraps for stale seqs
      if (index >= size() || acked[index]) continue;
      acked[index] = true;
      --pending;
      if (ack.error == 0) continue;
      ++failures;
      if (!failed || index < *failed) {
        failed = index;
        failure = ack;
      }
    }
  };
  while (pending > 0) read(socket.receive("the acks of " + what));
  // A commit failure is reported on BATCH_BEGIN ahead of the acks; anything still queued
  // belongs to this batch, so look before declaring success.
  for (auto datagram = socket.receive_now(what); !datagram.empty();
       datagram = socket.receive_now(what)) {
    read(datagram);
  }
  if (!failed) return;

  std::string action = "`" + description(*failed) + "` (message " + std::to_string(*failed + 1) +
                       " of " + std::to_string(size()) + " in a batch that was rolled back";
  if (failures > 1) action += "; " + std::to_string(failures - 1) + " later messages failed too";
  action += ")";
  const nlmsghdr* rejected = message(*failed);
  RejectedMessage what_failed{
      static_cast<std::uint16_t>(rejected->nlmsg_type & 0xff), {}, device_names_in(rejected)};
  if (failure.bad_attribute_offset)
    what_failed.device = device_name_at(rejected, *failure.bad_attribute_offset);
  throw make_error(failure.error, action, describe_ack_details(failure, rejected))
      .with_rejected(std::move(what_failed));
}

}  // namespace fnft::netlink
