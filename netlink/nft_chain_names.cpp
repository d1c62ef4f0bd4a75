#include "netlink/nft_chain_names.hpp"

#include <libnftnl/chain.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>

#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/detail/nftnl_shape.hpp"

namespace fnft::netlink {

std::vector<std::string> list_chain_names(NfnlSocket& socket, state::Family family,
                                          std::string_view table) {
  const std::uint16_t nfproto = family == state::Family::ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
  alignas(nlmsghdr) char buffer[1024];
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETCHAIN, nfproto, NLM_F_DUMP, 0);
  std::vector<std::string> names;
  socket.dump(
      request,
      "list chains " + std::string(state::nft_family_name(family)) + " " + std::string(table),
      [&](const nlmsghdr* reply) {
        const NftnlChain chain = make_chain();
        if (!parse_checked(reply, chain.get())) return;
        const char* in_table = nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TABLE);
        const char* name = nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_NAME);
        if (in_table == nullptr || name == nullptr || table != in_table) return;
        // A dump resumed after another commit may show a chain twice.
        if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
      });
  return names;
}

}  // namespace fnft::netlink
