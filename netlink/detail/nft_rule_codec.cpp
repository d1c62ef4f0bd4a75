// The codec's rules: their expressions (through nft_expr_codec), comments, and what is read of
// a rule libnftnl cannot parse.
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

#include "netlink/detail/nft_codec.hpp"
#include "netlink/detail/nft_codec_parts.hpp"
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
