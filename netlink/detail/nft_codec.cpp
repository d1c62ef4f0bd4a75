// The codec's tables, chains and flowtables (rules: nft_rule_codec.cpp).
#include "netlink/detail/nft_codec.hpp"

#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <vector>

#include "netlink/detail/nft_codec_parts.hpp"
#include "netlink/detail/nftnl_shape.hpp"
#include "netlink/detail/nl_attributes.hpp"
#include "netlink/netlink_error.hpp"

namespace fnft::netlink {
namespace {

std::uint32_t hook_number(state::Hook hook) {
  switch (hook) {
    case state::Hook::prerouting: return NF_INET_PRE_ROUTING;
    case state::Hook::input: return NF_INET_LOCAL_IN;
    case state::Hook::forward: return NF_INET_FORWARD;
    case state::Hook::output: return NF_INET_LOCAL_OUT;
    case state::Hook::postrouting: return NF_INET_POST_ROUTING;
  }
  return NF_INET_POST_ROUTING;
}

std::optional<state::Hook> hook_of(std::uint32_t number) {
  switch (number) {
    case NF_INET_PRE_ROUTING: return state::Hook::prerouting;
    case NF_INET_LOCAL_IN: return state::Hook::input;
    case NF_INET_FORWARD: return state::Hook::forward;
    case NF_INET_LOCAL_OUT: return state::Hook::output;
    case NF_INET_POST_ROUTING: return state::Hook::postrouting;
    default: return std::nullopt;
  }
}

std::optional<state::ChainType> chain_type_of(std::string_view name) {
  if (name == "filter") return state::ChainType::filter;
  if (name == "nat") return state::ChainType::nat;
  if (name == "route") return state::ChainType::route;
  return std::nullopt;
}

}  // namespace

std::uint8_t nfproto_of(state::Family family) {
  return family == state::Family::ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

std::optional<state::Family> family_of_nfproto(std::uint32_t nfproto) {
  if (nfproto == NFPROTO_IPV4) return state::Family::ipv4;
  if (nfproto == NFPROTO_IPV6) return state::Family::ipv6;
  return std::nullopt;
}

NftnlTable encode_table(state::Family family, const std::string& name,
                        state::Protection protection) {
  NftnlTable table = make_table();
  nftnl_table_set_u32(table.get(), NFTNL_TABLE_FAMILY, nfproto_of(family));
  nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, name.c_str());
  // Explicit flags, as nft sends them. The plan adds a table only when it is missing or to
  // take an orphan back, so this never changes the flags of a table otherwise.
  nftnl_table_set_u32(table.get(), NFTNL_TABLE_FLAGS,
                      protection == state::Protection::held
                          ? static_cast<std::uint32_t>(NFT_TABLE_F_OWNER) | kTableFlagPersist
                          : 0);
  return table;
}

NftnlChain encode_chain(state::Family family, const std::string& table, const std::string& chain,
                        const std::optional<state::BaseChain>& base) {
  NftnlChain encoded = make_chain();
  nftnl_chain_set_u32(encoded.get(), NFTNL_CHAIN_FAMILY, nfproto_of(family));
  nftnl_chain_set_str(encoded.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(encoded.get(), NFTNL_CHAIN_NAME, chain.c_str());
  if (base) {
    nftnl_chain_set_u32(encoded.get(), NFTNL_CHAIN_HOOKNUM, hook_number(base->hook));
    nftnl_chain_set_s32(encoded.get(), NFTNL_CHAIN_PRIO, base->priority);
    nftnl_chain_set_str(encoded.get(), NFTNL_CHAIN_TYPE,
                        std::string(state::to_string(base->type)).c_str());
    nftnl_chain_set_u32(encoded.get(), NFTNL_CHAIN_POLICY,
                        base->policy == state::Policy::accept ? NF_ACCEPT : NF_DROP);
  }
  return encoded;
}

namespace {

std::uint32_t table_flags(const nftnl_table* table) {
  return nftnl_table_is_set(table, NFTNL_TABLE_FLAGS)
             ? nftnl_table_get_u32(table, NFTNL_TABLE_FLAGS)
             : 0;
}

state::Protection protection_of(const nftnl_table* table, std::uint32_t own_portid) {
  const std::uint32_t flags = table_flags(table);
  if ((flags & kTableFlagPersist) == 0) return state::Protection::none;
  if ((flags & NFT_TABLE_F_OWNER) == 0) return state::Protection::orphaned;
  const bool ours = nftnl_table_is_set(table, NFTNL_TABLE_OWNER) && own_portid != 0 &&
                    nftnl_table_get_u32(table, NFTNL_TABLE_OWNER) == own_portid;
  return ours ? state::Protection::held : state::Protection::none;
}

}  // namespace

state::Table decode_table(const nftnl_table* table, std::uint32_t own_portid) {
  const std::uint32_t nfproto = nftnl_table_get_u32(table, NFTNL_TABLE_FAMILY);
  const std::string name = string_or_empty(nftnl_table_get_str(table, NFTNL_TABLE_NAME));
  const auto family = family_of_nfproto(nfproto);
  if (!family) throw unrepresentable("table " + family_text(nfproto) + " " + name, "its family");
  return state::Table{*family, name, {}, {}, protection_of(table, own_portid)};
}

std::vector<std::string> unmodeled_table_properties(const nftnl_table* table,
                                                    std::uint32_t own_portid) {
  std::vector<std::string> properties;
  std::uint32_t flags = table_flags(table);
  // A dormant table's chains are unhooked: its rules are in place but do nothing.
  if ((flags & NFT_TABLE_F_DORMANT) != 0) properties.emplace_back("flags dormant");
  if ((flags & NFT_TABLE_F_OWNER) != 0 &&
      protection_of(table, own_portid) != state::Protection::held) {
    properties.emplace_back("flags owner");
  }
  flags &=
      ~(static_cast<std::uint32_t>(NFT_TABLE_F_DORMANT | NFT_TABLE_F_OWNER) | kTableFlagPersist);
  if (flags != 0) properties.push_back("flags " + std::to_string(flags));
  if (nftnl_table_is_set(table, NFTNL_TABLE_USERDATA)) {
    std::uint32_t length = 0;
    const void* data = nftnl_table_get_data(table, NFTNL_TABLE_USERDATA, &length);
    const std::string comment = comment_in_userdata(data, length);
    properties.push_back(comment.empty() ? "userdata" : "comment \"" + comment + "\"");
  }
  return properties;
}

DecodedChain decode_chain(const nftnl_chain* chain) {
  const std::uint32_t nfproto = nftnl_chain_get_u32(chain, NFTNL_CHAIN_FAMILY);
  DecodedChain decoded;
  decoded.table = string_or_empty(nftnl_chain_get_str(chain, NFTNL_CHAIN_TABLE));
  decoded.chain.name = string_or_empty(nftnl_chain_get_str(chain, NFTNL_CHAIN_NAME));
  if (!nftnl_chain_is_set(chain, NFTNL_CHAIN_HOOKNUM)) return decoded;

  const std::string object =
      "chain " + family_text(nfproto) + " " + decoded.table + " " + decoded.chain.name;
  const auto hook = hook_of(nftnl_chain_get_u32(chain, NFTNL_CHAIN_HOOKNUM));
  if (!hook) throw unrepresentable(object, "its hook");
  const std::string type_name = string_or_empty(nftnl_chain_get_str(chain, NFTNL_CHAIN_TYPE));
  const auto type = chain_type_of(type_name);
  if (!type) throw unrepresentable(object, "chain type \"" + type_name + "\"");
  state::BaseChain base;
  base.type = *type;
  base.hook = *hook;
  base.priority = nftnl_chain_get_s32(chain, NFTNL_CHAIN_PRIO);
  const std::uint32_t policy = nftnl_chain_is_set(chain, NFTNL_CHAIN_POLICY)
                                   ? nftnl_chain_get_u32(chain, NFTNL_CHAIN_POLICY)
                                   : NF_ACCEPT;
  if (policy != NF_ACCEPT && policy != NF_DROP) throw unrepresentable(object, "its policy");
  base.policy = policy == NF_ACCEPT ? state::Policy::accept : state::Policy::drop;
  decoded.chain.base = base;
  return decoded;
}

NftnlFlowtable encode_flowtable(state::Family family, const std::string& table,
                                const state::Flowtable& flowtable, bool with_hook) {
  NftnlFlowtable encoded = make_flowtable();
  nftnl_flowtable_set_u32(encoded.get(), NFTNL_FLOWTABLE_FAMILY, nfproto_of(family));
  nftnl_flowtable_set_str(encoded.get(), NFTNL_FLOWTABLE_TABLE, table.c_str());
  nftnl_flowtable_set_str(encoded.get(), NFTNL_FLOWTABLE_NAME, flowtable.name.c_str());
  if (with_hook) {
    nftnl_flowtable_set_u32(encoded.get(), NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
    nftnl_flowtable_set_s32(encoded.get(), NFTNL_FLOWTABLE_PRIO, flowtable.priority);
    nftnl_flowtable_set_u32(encoded.get(), NFTNL_FLOWTABLE_FLAGS,
                            flowtable.counter ? NFT_FLOWTABLE_COUNTER : 0);
  }
  if (!flowtable.devices.empty()) {
    std::vector<const char*> names;
    for (const auto& device : flowtable.devices) names.push_back(device.c_str());
    names.push_back(nullptr);  // the array's end, for libnftnl
    nftnl_flowtable_set_array(encoded.get(), NFTNL_FLOWTABLE_DEVICES, names.data());
  }
  return encoded;
}

DecodedFlowtable decode_flowtable(const nftnl_flowtable* flowtable) {
  DecodedFlowtable decoded;
  decoded.table = string_or_empty(nftnl_flowtable_get_str(flowtable, NFTNL_FLOWTABLE_TABLE));
  decoded.flowtable.name =
      string_or_empty(nftnl_flowtable_get_str(flowtable, NFTNL_FLOWTABLE_NAME));
  if (nftnl_flowtable_is_set(flowtable, NFTNL_FLOWTABLE_PRIO)) {
    decoded.flowtable.priority = nftnl_flowtable_get_s32(flowtable, NFTNL_FLOWTABLE_PRIO);
  }
  const std::uint32_t flags = nftnl_flowtable_is_set(flowtable, NFTNL_FLOWTABLE_FLAGS)
                                  ? nftnl_flowtable_get_u32(flowtable, NFTNL_FLOWTABLE_FLAGS)
                                  : 0;
  decoded.flowtable.counter = (flags & NFT_FLOWTABLE_COUNTER) != 0;
  if (nftnl_flowtable_is_set(flowtable, NFTNL_FLOWTABLE_DEVICES)) {
    const char* const* names = nftnl_flowtable_get_array(flowtable, NFTNL_FLOWTABLE_DEVICES);
    for (std::size_t i = 0; names != nullptr && names[i] != nullptr; ++i) {
      decoded.flowtable.devices.emplace_back(names[i]);
    }
  }
  std::sort(decoded.flowtable.devices.begin(), decoded.flowtable.devices.end());
  return decoded;
}

}  // namespace fnft::netlink
