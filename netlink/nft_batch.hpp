// One nftables transaction: BATCH_BEGIN, messages, BATCH_END, sent as one datagram so the
// kernel applies all of it or none of it, then every message's ack read back.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netlink/detail/netlink_ack.hpp"
#include "netlink/nfnl_socket.hpp"

namespace fnft::netlink {

class NftBatch {
 public:
  using PayloadWriter = std::function<void(nlmsghdr*)>;

  // With `generation` (NFNL_BATCH_GENID) the kernel refuses the whole batch with ERESTART when
  // the ruleset changed since that generation was read, so a plan made from a dump is never
  // applied to a ruleset it was not made for.
  explicit NftBatch(std::optional<std::uint32_t> generation = std::nullopt);

  // Appends one NFT_MSG_* message with NLM_F_ACK; `write_payload` adds its attributes (e.g.
  // nftnl_rule_nlmsg_build_payload). `description` names it in errors, in nft syntax
  // ("add rule ip flannel-nftd-ipv4 postrtg ...").
  void add(std::uint16_t nft_message_type, std::uint8_t family, std::uint16_t flags,
           std::string description, const PayloadWriter& write_payload);

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::string& description(std::size_t index) const { return entries_[index].description; }
  // The message at `index` as it will be sent (its sequence number is set by send()).
  const nlmsghdr* message(std::size_t index) const;

  // Sends the batch and waits for every ack. Throws NetlinkError naming the first message
  // the kernel rejected (the whole batch is then rolled back), or the batch itself
  // (error_code() == ERESTART: the generation moved; re-dump, re-plan, retry). An empty batch
  // is not sent.
  void send(NfnlSocket& socket);
  // Has the kernel check every message and then discard the whole batch: sent without
  // BATCH_END, a batch is validated and aborted (what `nft --check` does), so nothing is
  // committed, no event is sent and the generation does not move. Throws like send() for the
  // first message the kernel would have refused. How features are probed: by trying them.
  void check(NfnlSocket& socket);

 private:
  struct Entry {
    std::size_t offset = 0;
    std::string description;
  };
  nlmsghdr* message_at(std::size_t index);
  void transmit(NfnlSocket& socket, bool commit);
  [[noreturn]] void fail_batch(NfnlSocket& socket, const nlmsghdr* begin, const AckInfo& ack);

  std::optional<std::uint32_t> generation_;
  std::vector<std::byte> messages_;  // the NFT_MSG_* messages back to back
  std::vector<Entry> entries_;
  std::vector<std::byte> scratch_;  // where one message is built before it is appended
};

}  // namespace fnft::netlink
