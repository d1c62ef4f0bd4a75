// The kernel's answer to one of our batch messages (NLMSG_ERROR with extended-ack TLVs, or a
// dump's NLMSG_DONE), read against the request it names, as a rejected batch is reported.
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "netlink/detail/netlink_ack.hpp"
#include "netlink/detail/nft_attr_names.hpp"
#include "netlink/detail/nft_codec.hpp"
#include "netlink/netlink_messages.hpp"
#include "state/desired_ruleset.hpp"

namespace {

using namespace fnft;

// Our own NEWRULE for the first rule of the IPv4 postrouting chain, and a NEWFLOWTABLE:
// the requests whose attributes an ack's offset points into.
struct Requests {
  std::vector<char> rule = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
  std::vector<char> flowtable = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
};

const Requests& requests() {
  static const Requests built = [] {
    Requests requests;
    const state::Ruleset ruleset = state::desired_nft_ruleset(fuzz::example_node_config());
    const state::Table& table = ruleset.tables.front();
    const state::Chain& chain = table.chains.front();
    const netlink::NftnlRule rule =
        netlink::encode_rule(table.family, table.name, chain.name, chain.rules.front());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(requests.rule.data(), NFT_MSG_NEWRULE, NFPROTO_IPV4,
                                          NLM_F_CREATE | NLM_F_APPEND, 7);
    netlink::build_rule_payload(nlh, rule.get());
    const netlink::NftnlFlowtable flowtable = netlink::encode_flowtable(
        table.family, table.name, {.name = "fastpath", .devices = {"cni0", "eth0", "veth1"}});
    nlh = nftnl_nlmsg_build_hdr(requests.flowtable.data(), NFT_MSG_NEWFLOWTABLE, NFPROTO_IPV4,
                                NLM_F_CREATE, 8);
    nftnl_flowtable_nlmsg_build_payload(nlh, flowtable.get());
    return requests;
  }();
  return built;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::AlignedBytes bytes(data, size);
  fnft::netlink::NetlinkMessages messages(bytes.bytes());
  while (const nlmsghdr* message = messages.next()) {
    if (message->nlmsg_type != NLMSG_ERROR && message->nlmsg_type != NLMSG_DONE) continue;
    const netlink::AckInfo ack = netlink::parse_ack(message);
    for (const auto* request : {&requests().rule, &requests().flowtable}) {
      const auto* nlh = reinterpret_cast<const nlmsghdr*>(request->data());
      fuzz::require_one_line(netlink::describe_ack_details(ack, nlh));
      if (ack.bad_attribute_offset) netlink::device_name_at(nlh, *ack.bad_attribute_offset);
    }
  }
  return 0;
}
