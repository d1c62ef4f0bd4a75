// One message of a dump answer (table, chain, rule with any expressions, flowtable), decoded
// the way the dump decodes it, then printed the way `dump`, `status` and the logs print it.
#include <libnftnl/chain.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstddef>
#include <cstdint>
#include <exception>

#include "fuzz/fuzz_support.hpp"
#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/detail/nftnl_shape.hpp"
#include "netlink/netlink_messages.hpp"
#include "state/nft_text.hpp"

namespace {

using namespace fnft;

void decode(const nlmsghdr* message) {
  // As the daemon does: nothing libnftnl would end the process over reaches it. Rules with
  // expression kinds whose shapes are not checked are left out here (the daemon hands those
  // to libnftnl, trusting the kernel that sent them).
  if (netlink::nftnl_shape_of(message) == netlink::NftnlShape::unchecked) {
    netlink::rule_message_location(message);
    return;
  }
  switch (NFNL_MSG_TYPE(message->nlmsg_type)) {
    case NFT_MSG_NEWTABLE: {
      const netlink::NftnlTable table = netlink::make_table();
      if (!netlink::parse_checked(message, table.get())) return;
      state::Table decoded = netlink::decode_table(table.get(), 4242);
      netlink::unmodeled_table_properties(table.get(), 4242);
      to_nft_text(decoded);
      return;
    }
    case NFT_MSG_NEWCHAIN: {
      const netlink::NftnlChain chain = netlink::make_chain();
      if (!netlink::parse_checked(message, chain.get())) return;
      state::Table table{.family = state::Family::ipv4, .name = "t"};
      table.chains.push_back(netlink::decode_chain(chain.get()).chain);
      to_nft_text(table);
      return;
    }
    case NFT_MSG_NEWRULE: {
      const netlink::DecodedRule rule = netlink::decode_rule_message(message);
      netlink::rule_message_location(message);
      fuzz::require_one_line(to_nft_text(rule.rule, rule.family));
      return;
    }
    case NFT_MSG_NEWFLOWTABLE: {
      const netlink::NftnlFlowtable flowtable = netlink::make_flowtable();
      if (!netlink::parse_checked(message, flowtable.get())) return;
      netlink::decode_flowtable(flowtable.get());
      return;
    }
    default: return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::AlignedBytes bytes(data, size);
  fnft::netlink::NetlinkMessages messages(bytes.bytes());
  while (const nlmsghdr* message = messages.next()) {
    try {
      decode(message);
    } catch (const std::exception& error) {
      // The dump turns these into a repair failure with this line; it must stay one line.
      fuzz::require_one_line(error.what());
    }
  }
  return 0;
}
