#include "netns-tests/table_flags.hpp"

#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nftnl_ptr.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_probe.hpp"
#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {

std::optional<TableFlags> table_flags(const std::string& ns, const std::string& family,
                                      const std::string& table) {
  const InNamespace inside(ns);
  netlink::NfnlSocket socket;
  const netlink::NftnlTable filter = netlink::make_table();
  nftnl_table_set_str(filter.get(), NFTNL_TABLE_NAME, table.c_str());
  alignas(nlmsghdr) char buffer[1024];
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_GETTABLE,
                                            family == "ip6" ? NFPROTO_IPV6 : NFPROTO_IPV4, 0, 0);
  nftnl_table_nlmsg_build_payload(request, filter.get());
  std::optional<TableFlags> found;
  try {
    socket.request(request, "list table " + family + " " + table, [&](const nlmsghdr* reply) {
      const netlink::NftnlTable decoded = netlink::make_table();
      if (nftnl_table_nlmsg_parse(reply, decoded.get()) < 0) return;
      const std::uint32_t flags = nftnl_table_get_u32(decoded.get(), NFTNL_TABLE_FLAGS);
      TableFlags read;
      read.owner = (flags & NFT_TABLE_F_OWNER) != 0;
      read.persist = (flags & netlink::kTableFlagPersist) != 0;
      if (read.owner && nftnl_table_is_set(decoded.get(), NFTNL_TABLE_OWNER))
        read.owner_portid = nftnl_table_get_u32(decoded.get(), NFTNL_TABLE_OWNER);
      found = read;
    });
  } catch (const netlink::NetlinkError& error) {
    if (error.error_code() != ENOENT) throw;
  }
  return found;
}

bool kernel_has_table_protection() {
  const Namespace scratch(unique_prefix() + "protect");
  const InNamespace inside(scratch.name());
  netlink::NfnlSocket socket;
  return !netlink::table_protection_refused(socket);
}

}  // namespace fnft::netns_test
