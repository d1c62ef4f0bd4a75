// Whether libnftnl may be handed a message. libnftnl (1.2.4) ends the whole process with
// "nf_tables kernel ABI is broken" when an attribute it knows has the wrong size, and copies
// strings up to their NUL wherever that is. The kernel never sends either, and only its
// messages are read; still, nothing the daemon reads may end it, so a message is checked
// against the same attribute shapes first.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netlink.h>

namespace fnft::netlink {

enum class NftnlShape {
  accepted,   // libnftnl parses it without ending the process
  refused,    // an attribute libnftnl would choke on: decode it without libnftnl, or not at all
  unchecked,  // fine so far, but with an expression kind whose shapes are not known here
};

// For NFT_MSG_NEWTABLE, NEWCHAIN, NEWRULE (every expression included) and NEWFLOWTABLE;
// any other message is `unchecked`.
NftnlShape nftnl_shape_of(const nlmsghdr* message);

// libnftnl's parse of `message` into `object`, for a message nftnl_shape_of does not refuse;
// false where either refuses it. The only way this code hands libnftnl a message.
bool parse_checked(const nlmsghdr* message, nftnl_table* object);
bool parse_checked(const nlmsghdr* message, nftnl_chain* object);
bool parse_checked(const nlmsghdr* message, nftnl_rule* object);
bool parse_checked(const nlmsghdr* message, nftnl_flowtable* object);

}  // namespace fnft::netlink
