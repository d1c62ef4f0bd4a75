// One datagram on the nf_tables event socket, as the event source hands it over: split into
// messages, assembled into transactions, and each transaction's deletions applied to the
// tables as known, then planned back, as the repair path does.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "netlink/netlink_messages.hpp"
#include "netlink/nft_event.hpp"
#include "state/desired_ruleset.hpp"
#include "state/known_ruleset.hpp"
#include "state/nft_plan.hpp"

namespace {

using fnft::state::Family;

const fnft::state::Ruleset& desired() {
  static const fnft::state::Ruleset ruleset =
      fnft::state::desired_nft_ruleset(fnft::fuzz::example_node_config());
  return ruleset;
}

// The nftables tables and the iptables-nft chains, as both backends watch them, and the
// neighbours' tables the daemon watches (flanneld's, whose names the corpus was captured
// under, and the CNI plugin's chains by prefix).
std::vector<fnft::netlink::WatchedTable> watched() {
  return {{Family::ipv4, "flannel-nftd-ipv4", {}},
          {Family::ipv6, "flannel-nftd-ipv6", {}},
          {Family::ipv4, "flannel-ipv4", {}},
          {Family::ipv6, "flannel-ipv6", {}},
          {Family::ipv4, "nat", {"CNI-*"}},
          {Family::ipv4, "nat", {"POSTROUTING", "FLANNEL-POSTRTG"}},
          {Family::ipv4, "filter", {"FORWARD", "FLANNEL-FWD"}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fnft::fuzz::AlignedBytes datagram(data, size);
  fnft::netlink::NftEventAssembler assembler(watched());
  fnft::netlink::NetlinkMessages messages(datagram.bytes());
  while (const nlmsghdr* message = messages.next()) {
    const auto transaction = assembler.feed(message);
    if (!transaction) continue;
    fnft::state::Ruleset known = desired();
    for (const fnft::state::Deletion& deletion : transaction->deletions)
      fnft::state::apply_deletion(known, deletion);
    std::vector<fnft::state::OwnedTable> owned;
    for (const auto& table : desired().tables) owned.push_back({table.family, table.name});
    for (const auto& operation : fnft::state::plan_nft_changes(desired(), known, owned))
      fnft::fuzz::require_one_line(fnft::state::describe(operation));
  }
  return 0;
}
