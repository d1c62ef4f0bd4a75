// state::Table / Chain / Rule <-> libnftnl objects, in both directions. Encoding builds what
// `nft -f` builds for the same text; decoding yields state values that compare equal to the
// desired ones exactly when the kernel holds the same thing, and keeps anything we do not
// model visible as state::UnknownExpression.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/detail/nftnl_ptr.hpp"
#include "state/ruleset.hpp"

namespace fnft::netlink {

std::uint8_t nfproto_of(state::Family family);  // NFPROTO_IPV4 / NFPROTO_IPV6
std::optional<state::Family> family_of_nfproto(std::uint32_t nfproto);

// `flags owner, persist` (NFT_TABLE_F_PERSIST, Linux 6.9): older UAPI headers lack it.
inline constexpr std::uint32_t kTableFlagPersist = 0x4;

// table ip flannel-nftd-ipv4 (with `held`: { flags owner, persist; }, owned by the sending socket)
NftnlTable encode_table(state::Family family, const std::string& name,
                        state::Protection protection = state::Protection::none);
// chain ip flannel-nftd-ipv4 postrtg { type nat hook postrouting priority srcnat; policy accept; }
// (a regular chain when `base` is empty)
NftnlChain encode_chain(state::Family family, const std::string& table, const std::string& chain,
                        const std::optional<state::BaseChain>& base);
// rule ip flannel-nftd-ipv4 postrtg <matches> counter <action> comment "..."
// Throws std::invalid_argument for what cannot be encoded (UnknownExpression, a prefix of the
// other family, a comment longer than nft allows).
NftnlRule encode_rule(state::Family family, const std::string& table, const std::string& chain,
                      const state::Rule& rule);
// For `delete rule ... handle N` and `flush chain` (no handle): the object names only.
NftnlRule encode_rule_reference(state::Family family, const std::string& table,
                                const std::string& chain, std::optional<std::uint64_t> handle);

// flowtable ip flannel-nftd-ipv4 fastpath { hook ingress priority filter; devices = { ... };
// counter; }. `with_hook` false: the names only (a delete); with devices, those devices'
// hooks only (unbinding them).
NftnlFlowtable encode_flowtable(state::Family family, const std::string& table,
                                const state::Flowtable& flowtable, bool with_hook = true);

struct DecodedFlowtable {
  std::string table;
  state::Flowtable flowtable;  // devices sorted
};
DecodedFlowtable decode_flowtable(const nftnl_flowtable* flowtable);

// nftnl_rule_nlmsg_build_payload, but with the comment (NFTA_RULE_USERDATA) after the
// expressions as nft sends it, so our NEWRULE messages are byte for byte nft's.
void build_rule_payload(nlmsghdr* nlh, nftnl_rule* rule);

// Decoders throw NetlinkError (EPROTO) for what the state types cannot hold at all (a family
// other than ip/ip6, a hook or chain type that those families do not have).
// Without chains. `own_portid`: our command socket's, so that a table it owns reads as
// Protection::held (one owned by another socket reads as `none`, and as "flags owner" below).
state::Table decode_table(const nftnl_table* table, std::uint32_t own_portid = 0);
// What a table carries that state::Table does not model, in nft syntax ("flags dormant",
// `comment "rules for flannel-ipv4"`, "flags owner" but for our own `owner, persist`); empty
// for a plain table. The kernel cannot remove a table comment in place, so the backend
// re-creates such a table.
std::vector<std::string> unmodeled_table_properties(const nftnl_table* table,
                                                    std::uint32_t own_portid = 0);

struct DecodedChain {
  std::string table;
  state::Chain chain;  // without rules
};
DecodedChain decode_chain(const nftnl_chain* chain);

struct DecodedRule {
  state::Family family = state::Family::ipv4;
  std::string table;
  std::string chain;
  state::Rule rule;  // with its kernel handle
};
DecodedRule decode_rule(const nftnl_rule* rule);

// A NEWRULE message (dump reply or event) decoded. When libnftnl cannot parse it (an
// expression newer than libnftnl), the rule still comes back, with its handle and one
// UnknownExpression naming its expressions, so it can be seen and deleted.
DecodedRule decode_rule_message(const nlmsghdr* nlh);

// The comment in a rule's userdata (`comment "..."`), "" when it has none.
std::string decode_comment(const nftnl_rule* rule);

// libnftnl's parse of an NFT_MSG_NEWRULE, or nullopt when it cannot (or, for its own sake,
// must not) parse it.
std::optional<NftnlRule> parse_rule_message(const nlmsghdr* nlh);

// The table and chain a NEWRULE message names, read without decoding the rule: what a dump
// needs to skip a rule it will not look at.
struct RuleLocation {
  std::string table;
  std::string chain;
};
RuleLocation rule_message_location(const nlmsghdr* nlh);

}  // namespace fnft::netlink
