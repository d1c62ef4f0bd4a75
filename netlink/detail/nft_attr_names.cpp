#include "netlink/detail/nft_attr_names.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <cstring>
#include <span>
#include <string_view>

#include "netlink/detail/nl_attributes.hpp"
#include "state/one_line.hpp"

namespace fnft::netlink {
namespace {

// Attribute namespaces we send; names follow the kernel's enums in nf_tables.h.
enum class Space {
  unknown,
  batch,
  table,
  chain,
  hook,
  rule,
  expr_list,
  expr,
  data,
  verdict,
  meta,
  payload,
  bitwise,
  cmp,
  immediate,
  counter,
  masq,
};

using Names = std::span<const std::string_view>;

constexpr std::array<std::string_view, 2> kBatch{"", "NFNL_BATCH_GENID"};
constexpr std::array<std::string_view, 8> kTable{"",
                                                 "NFTA_TABLE_NAME",
                                                 "NFTA_TABLE_FLAGS",
                                                 "NFTA_TABLE_USE",
                                                 "NFTA_TABLE_HANDLE",
                                                 "NFTA_TABLE_PAD",
                                                 "NFTA_TABLE_USERDATA",
                                                 "NFTA_TABLE_OWNER"};
constexpr std::array<std::string_view, 13> kChain{"",
                                                  "NFTA_CHAIN_TABLE",
                                                  "NFTA_CHAIN_HANDLE",
                                                  "NFTA_CHAIN_NAME",
                                                  "NFTA_CHAIN_HOOK",
                                                  "NFTA_CHAIN_POLICY",
                                                  "NFTA_CHAIN_USE",
                                                  "NFTA_CHAIN_TYPE",
                                                  "NFTA_CHAIN_COUNTERS",
                                                  "NFTA_CHAIN_PAD",
                                                  "NFTA_CHAIN_FLAGS",
                                                  "NFTA_CHAIN_ID",
                                                  "NFTA_CHAIN_USERDATA"};
constexpr std::array<std::string_view, 5> kHook{"", "NFTA_HOOK_HOOKNUM", "NFTA_HOOK_PRIORITY",
                                                "NFTA_HOOK_DEV", "NFTA_HOOK_DEVS"};
constexpr std::array<std::string_view, 12> kRule{"",
                                                 "NFTA_RULE_TABLE",
                                                 "NFTA_RULE_CHAIN",
                                                 "NFTA_RULE_HANDLE",
                                                 "NFTA_RULE_EXPRESSIONS",
                                                 "NFTA_RULE_COMPAT",
                                                 "NFTA_RULE_POSITION",
                                                 "NFTA_RULE_USERDATA",
                                                 "NFTA_RULE_PAD",
                                                 "NFTA_RULE_ID",
                                                 "NFTA_RULE_POSITION_ID",
                                                 "NFTA_RULE_CHAIN_ID"};
constexpr std::array<std::string_view, 2> kList{"", "NFTA_LIST_ELEM"};
constexpr std::array<std::string_view, 3> kExpr{"", "NFTA_EXPR_NAME", "NFTA_EXPR_DATA"};
constexpr std::array<std::string_view, 3> kData{"", "NFTA_DATA_VALUE", "NFTA_DATA_VERDICT"};
constexpr std::array<std::string_view, 4> kVerdict{"", "NFTA_VERDICT_CODE", "NFTA_VERDICT_CHAIN",
                                                   "NFTA_VERDICT_CHAIN_ID"};
constexpr std::array<std::string_view, 4> kMeta{"", "NFTA_META_DREG", "NFTA_META_KEY",
                                                "NFTA_META_SREG"};
constexpr std::array<std::string_view, 9> kPayload{"",
                                                   "NFTA_PAYLOAD_DREG",
                                                   "NFTA_PAYLOAD_BASE",
                                                   "NFTA_PAYLOAD_OFFSET",
                                                   "NFTA_PAYLOAD_LEN",
                                                   "NFTA_PAYLOAD_SREG",
                                                   "NFTA_PAYLOAD_CSUM_TYPE",
                                                   "NFTA_PAYLOAD_CSUM_OFFSET",
                                                   "NFTA_PAYLOAD_CSUM_FLAGS"};
constexpr std::array<std::string_view, 8> kBitwise{"",
                                                   "NFTA_BITWISE_SREG",
                                                   "NFTA_BITWISE_DREG",
                                                   "NFTA_BITWISE_LEN",
                                                   "NFTA_BITWISE_MASK",
                                                   "NFTA_BITWISE_XOR",
                                                   "NFTA_BITWISE_OP",
                                                   "NFTA_BITWISE_DATA"};
constexpr std::array<std::string_view, 4> kCmp{"", "NFTA_CMP_SREG", "NFTA_CMP_OP", "NFTA_CMP_DATA"};
constexpr std::array<std::string_view, 3> kImmediate{"", "NFTA_IMMEDIATE_DREG",
                                                     "NFTA_IMMEDIATE_DATA"};
constexpr std::array<std::string_view, 4> kCounter{"", "NFTA_COUNTER_BYTES", "NFTA_COUNTER_PACKETS",
                                                   "NFTA_COUNTER_PAD"};
constexpr std::array<std::string_view, 4> kMasq{"", "NFTA_MASQ_FLAGS", "NFTA_MASQ_REG_PROTO_MIN",
                                                "NFTA_MASQ_REG_PROTO_MAX"};

Names names_of(Space space) {
  switch (space) {
    case Space::batch: return kBatch;
    case Space::table: return kTable;
    case Space::chain: return kChain;
    case Space::hook: return kHook;
    case Space::rule: return kRule;
    case Space::expr_list: return kList;
    case Space::expr: return kExpr;
    case Space::data: return kData;
    case Space::verdict: return kVerdict;
    case Space::meta: return kMeta;
    case Space::payload: return kPayload;
    case Space::bitwise: return kBitwise;
    case Space::cmp: return kCmp;
    case Space::immediate: return kImmediate;
    case Space::counter: return kCounter;
    case Space::masq: return kMasq;
    case Space::unknown: break;
  }
  return {};
}

Space expression_space(std::string_view name) {
  if (name == "meta") return Space::meta;
  if (name == "payload") return Space::payload;
  if (name == "bitwise") return Space::bitwise;
  if (name == "cmp") return Space::cmp;
  if (name == "immediate") return Space::immediate;
  if (name == "counter") return Space::counter;
  if (name == "masq") return Space::masq;
  return Space::unknown;
}

// The namespace of the attributes nested in `type` of `space`; `expr_name` is the kind of the
// enclosing expression, which decides what NFTA_EXPR_DATA holds.
Space nested_space(Space space, std::uint16_t type, std::string_view expr_name) {
  switch (space) {
    case Space::chain: return type == NFTA_CHAIN_HOOK ? Space::hook : Space::unknown;
    case Space::rule: return type == NFTA_RULE_EXPRESSIONS ? Space::expr_list : Space::unknown;
    case Space::expr_list: return type == NFTA_LIST_ELEM ? Space::expr : Space::unknown;
    case Space::expr: return type == NFTA_EXPR_DATA ? expression_space(expr_name) : Space::unknown;
    case Space::data: return type == NFTA_DATA_VERDICT ? Space::verdict : Space::unknown;
    case Space::bitwise:
      return type == NFTA_BITWISE_MASK || type == NFTA_BITWISE_XOR || type == NFTA_BITWISE_DATA
                 ? Space::data
                 : Space::unknown;
    case Space::cmp: return type == NFTA_CMP_DATA ? Space::data : Space::unknown;
    case Space::immediate: return type == NFTA_IMMEDIATE_DATA ? Space::data : Space::unknown;
    default: return Space::unknown;
  }
}

std::string attribute_name(Space space, std::uint16_t type) {
  const Names names = names_of(space);
  if (type < names.size() && !names[type].empty()) return std::string(names[type]);
  return "attribute type " + std::to_string(type);
}

// NFTA_EXPR_NAME among the attributes of one list element.
std::string expression_name(const nlattr* element) {
  std::string name;
  for_each_nested(element, [&name](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NFTA_EXPR_NAME &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
      name = mnl_attr_get_str(attr);
    }
  });
  return name;
}

// Walks the attributes in [begin, begin + length) down to the one holding `target`.
std::string path_within(const char* begin, std::size_t length, const char* target, Space space,
                        std::string_view expr_name) {
  const char* const end = begin + length;
  int element_index = 0;
  for (const char* start = begin; start + sizeof(nlattr) <= end;) {
    const auto* attr = reinterpret_cast<const nlattr*>(start);
    if (attr->nla_len < sizeof(nlattr) || start + attr->nla_len > end) break;
    const char* next = start + MNL_ALIGN(attr->nla_len);
    const std::uint16_t type = mnl_attr_get_type(attr);
    if (space == Space::expr_list) ++element_index;
    if (target < start || target >= next) {
      start = next;
      continue;
    }

    std::string name = attribute_name(space, type);
    std::string child_expr_name(expr_name);
    if (space == Space::expr_list) {
      child_expr_name = expression_name(attr);
      name += " #" + std::to_string(element_index) + " (" + child_expr_name + ")";
    }
    const Space child = nested_space(space, type, child_expr_name);
    if (target == start || child == Space::unknown) return name;
    const std::string inner =
        path_within(static_cast<const char*>(mnl_attr_get_payload(attr)),
                    mnl_attr_get_payload_len(attr), target, child, child_expr_name);
    return inner.empty() ? name : name + " > " + inner;
  }
  return {};
}

Space message_space(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) return Space::batch;
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) return Space::unknown;
  switch (nlh->nlmsg_type & 0xff) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_GETTABLE:
    case NFT_MSG_DELTABLE: return Space::table;
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_GETCHAIN:
    case NFT_MSG_DELCHAIN: return Space::chain;
    case NFT_MSG_NEWRULE:
    case NFT_MSG_GETRULE:
    case NFT_MSG_DELRULE: return Space::rule;
    default: return Space::unknown;
  }
}

}  // namespace

std::string attribute_path_at(const nlmsghdr* request, std::uint32_t offset) {
  const std::size_t attributes_at = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
  if (offset < attributes_at || offset >= request->nlmsg_len) return {};
  const char* begin = reinterpret_cast<const char*>(request) + attributes_at;
  return path_within(begin, request->nlmsg_len - attributes_at,
                     reinterpret_cast<const char*>(request) + offset, message_space(request), {});
}

namespace {

// Calls `visit` with each NFTA_DEVICE_NAME attribute of the hook of `request`.
template <typename Visit>
void for_each_hook_device(const nlmsghdr* request, Visit&& visit) {
  const std::uint16_t type = request->nlmsg_type & 0xff;
  const bool flowtable = type == NFT_MSG_NEWFLOWTABLE || type == NFT_MSG_DELFLOWTABLE;
  const bool chain = type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN;
  if (!flowtable && !chain) return;
  const unsigned hook_type = flowtable ? unsigned{NFTA_FLOWTABLE_HOOK} : unsigned{NFTA_CHAIN_HOOK};
  const unsigned devs_type =
      flowtable ? unsigned{NFTA_FLOWTABLE_HOOK_DEVS} : unsigned{NFTA_HOOK_DEVS};
  for_each_attribute(request, sizeof(nfgenmsg), [&](const nlattr* hook) {
    if (mnl_attr_get_type(hook) != hook_type) return;
    for_each_nested(hook, [&](const nlattr* devs) {
      if (mnl_attr_get_type(devs) != devs_type) return;
      for_each_nested(devs, [&](const nlattr* device) {
        if (mnl_attr_get_type(device) == NFTA_DEVICE_NAME) visit(device);
      });
    });
  });
}

std::string device_name_of(const nlattr* device) {
  const auto* name = static_cast<const char*>(mnl_attr_get_payload(device));
  return std::string(name, strnlen(name, mnl_attr_get_payload_len(device)));
}

}  // namespace

std::optional<std::string> device_name_at(const nlmsghdr* request, std::uint32_t offset) {
  if (offset >= request->nlmsg_len) return std::nullopt;
  const char* target = reinterpret_cast<const char*>(request) + offset;
  std::optional<std::string> found;
  for_each_hook_device(request, [&](const nlattr* device) {
    if (reinterpret_cast<const char*>(device) == target) found = device_name_of(device);
  });
  return found;
}

std::vector<std::string> device_names_in(const nlmsghdr* request) {
  std::vector<std::string> names;
  for_each_hook_device(request,
                       [&](const nlattr* device) { names.push_back(device_name_of(device)); });
  return names;
}

std::string describe_ack_details(const AckInfo& ack, const nlmsghdr* request) {
  std::string details = state::one_line(ack.message);
  auto append = [&details](const std::string& part) {
    if (!details.empty()) details += "; ";
    details += part;
  };
  if (ack.bad_attribute_offset) {
    const std::string path = attribute_path_at(request, *ack.bad_attribute_offset);
    append("offending attribute " +
           (path.empty() ? "at offset " + std::to_string(*ack.bad_attribute_offset) : path));
  }
  if (ack.missing_attribute_type) {
    const auto type = static_cast<std::uint16_t>(*ack.missing_attribute_type);
    std::string where;
    Space space = message_space(request);
    if (ack.missing_nest_offset) {
      where = attribute_path_at(request, *ack.missing_nest_offset);
      space = Space::unknown;  // naming inside an arbitrary nest is not worth a second walk
    }
    append("missing attribute " + attribute_name(space, type) +
           (where.empty() ? "" : " in " + where));
  }
  return details;
}

}  // namespace fnft::netlink
