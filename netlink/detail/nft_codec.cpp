#include "netlink/detail/nft_codec.hpp"

#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <type_traits>
#include <variant>
#include <vector>

#include "netlink/detail/nft_expr_codec.hpp"
#include "netlink/detail/nftnl_shape.hpp"
#include "netlink/detail/nl_attributes.hpp"
#include "netlink/netlink_error.hpp"
#include "state/nft_text.hpp"

namespace fnft::netlink {
namespace {

// nft's limit for comments (NFTNL_UDATA_COMMENT_MAXLEN); the kernel allows 256 bytes of
// userdata in all.
constexpr std::size_t kMaxCommentLength = 128;

std::string family_text(std::uint32_t nfproto) {
  if (const auto family = family_of_nfproto(nfproto))
    return std::string(state::nft_family_name(*family));
  return "family " + std::to_string(nfproto);
}

NetlinkError unrepresentable(const std::string& object, const std::string& what) {
  return NetlinkError(EPROTO, "cannot read " + object + ": " + what +
                                  " is not something flannel-nftd models; delete the object "
                                  "with nft and let flannel-nftd recreate it");
}

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

std::string string_or_empty(const char* text) {
  return text == nullptr ? std::string() : text;
}

// comment "..." travels as rule userdata, a TLV of type NFTNL_UDATA_RULE_COMMENT holding a
// NUL-terminated string, exactly as nft stores it (so nft shows our comments and we see its).
void encode_comment(nftnl_rule* rule, const std::string& comment) {
  if (comment.size() > kMaxCommentLength) {
    throw std::invalid_argument("comment \"" + comment + "\" is longer than nft's limit of " +
                                std::to_string(kMaxCommentLength) + " characters");
  }
  NftnlUdataBuf buffer = owned_or_throw<NftnlUdataBuf>(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  if (!nftnl_udata_put_strz(buffer.get(), NFTNL_UDATA_RULE_COMMENT, comment.c_str())) {
    throw std::invalid_argument("comment \"" + comment + "\" does not fit the rule's userdata");
  }
  nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(buffer.get()),
                      nftnl_udata_buf_len(buffer.get()));
}

// The comment in a rule's or a table's userdata: TLVs of a type byte and a length byte, the
// comment's type being 0 for both (NFTNL_UDATA_RULE_COMMENT, NFTNL_UDATA_TABLE_COMMENT). Walked
// here rather than with nftnl_udata_parse(), which (in 1.2.4) hands its callback a TLV
// without checking that it fits in the data.
static_assert(static_cast<int>(NFTNL_UDATA_RULE_COMMENT) ==
              static_cast<int>(NFTNL_UDATA_TABLE_COMMENT));
std::string comment_in_userdata(const void* data, std::uint32_t length) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string comment;
  for (std::uint32_t at = 0; length - at >= 2;) {
    const unsigned type = bytes[at];
    const std::uint32_t value_length = bytes[at + 1];
    const std::uint32_t value_at = at + 2;
    if (value_length > length - value_at) break;
    // A comment is a C string; anything else under its type is ignored.
    if (type == NFTNL_UDATA_RULE_COMMENT && value_length > 0 &&
        bytes[value_at + value_length - 1] == '\0') {
      comment.assign(reinterpret_cast<const char*>(bytes + value_at), value_length - 1);
    }
    at = value_at + value_length;
  }
  return comment;
}

std::string string_attribute(const nlattr* attr) {
  if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return {};
  return mnl_attr_get_str(attr);
}

// The names of the expressions in NFTA_RULE_EXPRESSIONS, "payload, cmp, frobnicate".
std::string expression_names(const nlattr* expressions) {
  std::string names;
  for_each_nested(expressions, [&names](const nlattr* element) {
    for_each_nested(element, [&names](const nlattr* attr) {
      if (mnl_attr_get_type(attr) != NFTA_EXPR_NAME) return;
      if (!names.empty()) names += ", ";
      names += string_attribute(attr);
    });
  });
  return names;
}

// What we can read of a rule without libnftnl: enough to show it and delete it by handle.
DecodedRule decode_unparsable_rule(const nlmsghdr* nlh) {
  const auto* header = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  DecodedRule decoded;
  const auto family = family_of_nfproto(header->nfgen_family);
  std::string expressions;
  for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NFTA_RULE_TABLE: decoded.table = string_attribute(attr); break;
      case NFTA_RULE_CHAIN: decoded.chain = string_attribute(attr); break;
      case NFTA_RULE_HANDLE:
        if (mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
          decoded.rule.handle = be64toh(mnl_attr_get_u64(attr));
        break;
      case NFTA_RULE_EXPRESSIONS: expressions = expression_names(attr); break;
      case NFTA_RULE_USERDATA:
        decoded.rule.comment =
            comment_in_userdata(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
        break;
      default: break;
    }
  });
  if (!family) {
    throw unrepresentable(
        "a rule in table " + family_text(header->nfgen_family) + " " + decoded.table, "its family");
  }
  decoded.family = *family;
  decoded.rule.matches.push_back(
      state::UnknownExpression{"expressions libnftnl cannot parse: " + expressions});
  return decoded;
}

// One decoded piece of a rule, in the order the kernel runs them.
struct Counter {
  CounterValues values;
};
using Item = std::variant<state::Match, Counter, state::Action>;

std::vector<Item> decode_items(ExprSpan exprs, state::Family family) {
  std::vector<Item> items;
  while (!exprs.empty()) {
    std::size_t consumed = 0;
    if (auto mark = decode_mark_match(exprs)) {
      items.emplace_back(state::Match(mark->value));
      consumed = mark->consumed;
    } else if (auto address = decode_address_match(exprs, family)) {
      items.emplace_back(state::Match(address->value));
      consumed = address->consumed;
    } else if (auto ct_state = decode_ct_state_match(exprs)) {
      items.emplace_back(state::Match(ct_state->value));
      consumed = ct_state->consumed;
    } else if (auto counter = decode_counter(exprs)) {
      items.emplace_back(Counter{counter->value});
      consumed = counter->consumed;
    } else if (auto verdict = decode_verdict(exprs)) {
      items.emplace_back(verdict->value);
      consumed = verdict->consumed;
    } else if (auto masquerade = decode_masquerade(exprs)) {
      items.emplace_back(masquerade->value);
      consumed = masquerade->consumed;
    } else if (auto offload = decode_offload(exprs)) {
      items.emplace_back(offload->value);
      consumed = offload->consumed;
    } else {
      auto unknown = decode_unknown(exprs);
      items.emplace_back(state::Match(std::move(unknown.value)));
      consumed = unknown.consumed;
    }
    exprs = exprs.subspan(consumed);
  }
  return items;
}

std::string item_text(const Item& item, state::Family family) {
  state::Rule alone;
  std::visit(
      [&alone](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, state::Match>) alone.matches.push_back(value);
        if constexpr (std::is_same_v<T, Counter>) alone.counter = true;
        if constexpr (std::is_same_v<T, state::Action>) alone.action = value;
      },
      item);
  return state::to_nft_text(alone, family);
}

// A state::Rule reads "matches, then counter, then action". Items in that order fill it; from
// the first item out of that order on (a counter before a match, anything after the verdict),
// every item becomes an UnknownExpression with its nft text, so the rule prints in the
// kernel's order and never equals a rule we built.
void fill_rule(state::Rule& rule, const std::vector<Item>& items, state::Family family) {
  enum class Phase { matches, counter, action, done } phase = Phase::matches;
  std::size_t i = 0;
  for (; i < items.size(); ++i) {
    const Item& item = items[i];
    if (const auto* match = std::get_if<state::Match>(&item); match && phase == Phase::matches) {
      rule.matches.push_back(*match);
    } else if (const auto* counter = std::get_if<Counter>(&item);
               counter && phase <= Phase::counter) {
      rule.counter = true;
      rule.packets = counter->values.packets;
      rule.bytes = counter->values.bytes;
      phase = Phase::action;
    } else if (const auto* action = std::get_if<state::Action>(&item);
               action && phase <= Phase::action) {
      rule.action = *action;
      phase = Phase::done;
    } else {
      break;
    }
  }
  if (i == items.size()) return;
  // Out of order: everything from the first counter/action on is shown as it is.
  std::size_t first_out = i;
  while (first_out > 0 && !std::holds_alternative<state::Match>(items[first_out - 1])) --first_out;
  rule.counter = false;
  rule.action = {};
  for (std::size_t j = first_out; j < items.size(); ++j) {
    if (const auto* match = std::get_if<state::Match>(&items[j]);
        match && std::holds_alternative<state::UnknownExpression>(*match)) {
      rule.matches.push_back(*match);
    } else {
      rule.matches.push_back(state::UnknownExpression{item_text(items[j], family)});
    }
  }
}

}  // namespace

std::string decode_comment(const nftnl_rule* rule) {
  if (!nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) return {};
  std::uint32_t length = 0;
  const void* data = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &length);
  return comment_in_userdata(data, length);
}

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

NftnlRule encode_rule(state::Family family, const std::string& table, const std::string& chain,
                      const state::Rule& rule) {
  NftnlRule encoded = encode_rule_reference(family, table, chain, std::nullopt);
  nftnl_rule* raw = encoded.get();
  for (const auto& match : rule.matches) {
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, state::MarkMatch>) {
            encode_mark_match(raw, m);
          } else if constexpr (std::is_same_v<T, state::AddressMatch>) {
            encode_address_match(raw, family, m);
          } else if constexpr (std::is_same_v<T, state::CtStateMatch>) {
            encode_ct_state_match(raw, m);
          } else {
            throw std::invalid_argument("cannot encode an unknown expression (" + m.description +
                                        ")");
          }
        },
        match);
  }
  if (rule.counter) encode_counter(raw);
  switch (rule.action.kind) {
    case state::Action::Kind::none: break;
    case state::Action::Kind::masquerade: encode_masquerade(raw, rule.action); break;
    case state::Action::Kind::offload: encode_offload(raw, rule.action); break;
    default: encode_verdict(raw, rule.action); break;
  }
  if (!rule.comment.empty()) encode_comment(raw, rule.comment);
  return encoded;
}

void build_rule_payload(nlmsghdr* nlh, nftnl_rule* rule) {
  if (!nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) {
    nftnl_rule_nlmsg_build_payload(nlh, rule);
    return;
  }
  std::uint32_t length = 0;
  const auto* data =
      static_cast<const std::byte*>(nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &length));
  const std::vector<std::byte> userdata(data, data + length);
  nftnl_rule_unset(rule, NFTNL_RULE_USERDATA);
  nftnl_rule_nlmsg_build_payload(nlh, rule);
  mnl_attr_put(nlh, NFTA_RULE_USERDATA, userdata.size(), userdata.data());
  nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, userdata.data(),
                      static_cast<std::uint32_t>(userdata.size()));
}

NftnlRule encode_rule_reference(state::Family family, const std::string& table,
                                const std::string& chain, std::optional<std::uint64_t> handle) {
  NftnlRule encoded = make_rule();
  nftnl_rule_set_u32(encoded.get(), NFTNL_RULE_FAMILY, nfproto_of(family));
  nftnl_rule_set_str(encoded.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(encoded.get(), NFTNL_RULE_CHAIN, chain.c_str());
  if (handle) nftnl_rule_set_u64(encoded.get(), NFTNL_RULE_HANDLE, *handle);
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

DecodedRule decode_rule(const nftnl_rule* rule) {
  const std::uint32_t nfproto = nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY);
  DecodedRule decoded;
  decoded.table = string_or_empty(nftnl_rule_get_str(rule, NFTNL_RULE_TABLE));
  decoded.chain = string_or_empty(nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN));
  const auto family = family_of_nfproto(nfproto);
  if (!family) {
    throw unrepresentable("a rule in table " + family_text(nfproto) + " " + decoded.table,
                          "its family");
  }
  decoded.family = *family;
  if (nftnl_rule_is_set(rule, NFTNL_RULE_HANDLE)) {
    decoded.rule.handle = nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE);
  }

  std::vector<const nftnl_expr*> exprs;
  const NftnlExprIter iter = owned_or_throw<NftnlExprIter>(nftnl_expr_iter_create(rule));
  for (const nftnl_expr* expr = nftnl_expr_iter_next(iter.get()); expr != nullptr;
       expr = nftnl_expr_iter_next(iter.get())) {
    exprs.push_back(expr);
  }
  fill_rule(decoded.rule, decode_items(exprs, *family), *family);
  decoded.rule.comment = decode_comment(rule);
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

DecodedRule decode_rule_message(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nfgenmsg)) {
    throw NetlinkError(EPROTO, "cannot read a rule message: it is truncated");
  }
  const std::optional<NftnlRule> rule = parse_rule_message(nlh);
  if (!rule) return decode_unparsable_rule(nlh);
  return decode_rule(rule->get());
}

std::optional<NftnlRule> parse_rule_message(const nlmsghdr* nlh) {
  NftnlRule rule = make_rule();
  if (!parse_checked(nlh, rule.get())) return std::nullopt;
  return rule;
}

}  // namespace fnft::netlink

namespace fnft::netlink {

RuleLocation rule_message_location(const nlmsghdr* nlh) {
  RuleLocation location;
  for_each_attribute(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NFTA_RULE_TABLE: location.table = string_attribute(attr); break;
      case NFTA_RULE_CHAIN: location.chain = string_attribute(attr); break;
      default: break;
    }
  });
  return location;
}

}  // namespace fnft::netlink
