#include "netlink/detail/nftnl_shape.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "netlink/detail/nl_attributes.hpp"

namespace fnft::netlink {
namespace {

enum class Kind : std::uint8_t { u8, u32, u64, string, nested, binary };

// One attribute libnftnl validates: its type, its shape and, for a nest libnftnl parses, the
// shapes inside it and what else the nest must hold.
struct Shape {
  std::uint16_t type;
  Kind kind;
  std::span<const Shape> inside = {};
  bool (*complete)(const nlattr* nest) = nullptr;
};

bool fits(const nlattr* attr, Kind kind) {
  const std::size_t length = mnl_attr_get_payload_len(attr);
  switch (kind) {
    case Kind::u8: return length == 1;
    case Kind::u32: return length == 4;
    case Kind::u64: return length == 8;
    // libnftnl asks only for a non-empty string, then copies up to the NUL.
    case Kind::string:
      return length > 0 && static_cast<const char*>(mnl_attr_get_payload(attr))[length - 1] == 0;
    case Kind::nested: return length == 0 || length >= sizeof(nlattr);
    case Kind::binary: return true;
  }
  return false;
}

bool attributes_fit(const void* begin, std::size_t length, std::span<const Shape> shapes);

bool attribute_fits(const nlattr* attr, std::span<const Shape> shapes) {
  const auto shape = std::find_if(shapes.begin(), shapes.end(), [attr](const Shape& s) {
    return s.type == mnl_attr_get_type(attr);
  });
  if (shape == shapes.end()) return true;  // libnftnl skips what it does not know
  if (!fits(attr, shape->kind)) return false;
  if (shape->complete != nullptr && !shape->complete(attr)) return false;
  return shape->inside.empty() ||
         attributes_fit(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr), shape->inside);
}

// libnftnl 1.2.4 reads a verdict's code, and a jump's or goto's chain, from an array it never
// initialised: a verdict without them sends it to a random address.
bool verdict_complete(const nlattr* verdict) {
  const nlattr* code = nullptr;
  bool has_chain = false;
  for_each_nested(verdict, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NFTA_VERDICT_CODE) code = attr;
    if (mnl_attr_get_type(attr) == NFTA_VERDICT_CHAIN) has_chain = true;
  });
  if (code == nullptr || mnl_attr_get_payload_len(code) != sizeof(std::uint32_t)) return false;
  const auto value = static_cast<std::int32_t>(ntohl(mnl_attr_get_u32(code)));
  return (value != NFT_JUMP && value != NFT_GOTO) || has_chain;
}

bool attributes_fit(const void* begin, std::size_t length, std::span<const Shape> shapes) {
  bool fit = true;
  for_each_attribute_in(begin, length,
                        [&](const nlattr* attr) { fit = fit && attribute_fits(attr, shapes); });
  return fit;
}

using K = Kind;

// libnftnl 1.2.4's parse callbacks, attribute by attribute.
constexpr Shape kVerdict[] = {
    {NFTA_VERDICT_CODE, K::u32}, {NFTA_VERDICT_CHAIN, K::string}, {NFTA_VERDICT_CHAIN_ID, K::u32}};
constexpr Shape kData[] = {{NFTA_DATA_VALUE, K::binary},
                           {NFTA_DATA_VERDICT, K::nested, kVerdict, verdict_complete}};
constexpr Shape kCounters[] = {{NFTA_COUNTER_BYTES, K::u64}, {NFTA_COUNTER_PACKETS, K::u64}};

constexpr Shape kTable[] = {{NFTA_TABLE_NAME, K::string}, {NFTA_TABLE_HANDLE, K::u64},
                            {NFTA_TABLE_FLAGS, K::u32},   {NFTA_TABLE_USE, K::u32},
                            {NFTA_TABLE_OWNER, K::u32},   {NFTA_TABLE_USERDATA, K::binary}};

constexpr Shape kChainHook[] = {
    {NFTA_HOOK_HOOKNUM, K::u32}, {NFTA_HOOK_PRIORITY, K::u32}, {NFTA_HOOK_DEV, K::string}};
constexpr Shape kChain[] = {{NFTA_CHAIN_NAME, K::string},
                            {NFTA_CHAIN_TABLE, K::string},
                            {NFTA_CHAIN_TYPE, K::string},
                            {NFTA_CHAIN_HOOK, K::nested, kChainHook},
                            {NFTA_CHAIN_COUNTERS, K::nested, kCounters},
                            {NFTA_CHAIN_POLICY, K::u32},
                            {NFTA_CHAIN_USE, K::u32},
                            {NFTA_CHAIN_FLAGS, K::u32},
                            {NFTA_CHAIN_ID, K::u32},
                            {NFTA_CHAIN_HANDLE, K::u64},
                            {NFTA_CHAIN_USERDATA, K::binary}};

constexpr Shape kFlowtableHook[] = {{NFTA_FLOWTABLE_HOOK_NUM, K::u32},
                                    {NFTA_FLOWTABLE_HOOK_PRIORITY, K::u32},
                                    {NFTA_FLOWTABLE_HOOK_DEVS, K::nested}};
constexpr Shape kFlowtable[] = {{NFTA_FLOWTABLE_NAME, K::string},
                                {NFTA_FLOWTABLE_TABLE, K::string},
                                {NFTA_FLOWTABLE_HOOK, K::nested, kFlowtableHook},
                                {NFTA_FLOWTABLE_FLAGS, K::u32},
                                {NFTA_FLOWTABLE_USE, K::u32},
                                {NFTA_FLOWTABLE_HANDLE, K::u64}};

constexpr Shape kRuleCompat[] = {{NFTA_RULE_COMPAT_PROTO, K::u32},
                                 {NFTA_RULE_COMPAT_FLAGS, K::u32}};
constexpr Shape kRule[] = {{NFTA_RULE_TABLE, K::string},
                           {NFTA_RULE_CHAIN, K::string},
                           {NFTA_RULE_HANDLE, K::u64},
                           {NFTA_RULE_COMPAT, K::nested, kRuleCompat},
                           {NFTA_RULE_POSITION, K::u64},
                           {NFTA_RULE_USERDATA, K::binary},
                           {NFTA_RULE_ID, K::u32},
                           {NFTA_RULE_POSITION_ID, K::u32},
                           {NFTA_RULE_EXPRESSIONS, K::nested}};

// The expression kinds nft_expr_codec reads.
constexpr Shape kPayload[] = {
    {NFTA_PAYLOAD_DREG, K::u32},        {NFTA_PAYLOAD_BASE, K::u32},
    {NFTA_PAYLOAD_OFFSET, K::u32},      {NFTA_PAYLOAD_LEN, K::u32},
    {NFTA_PAYLOAD_SREG, K::u32},        {NFTA_PAYLOAD_CSUM_TYPE, K::u32},
    {NFTA_PAYLOAD_CSUM_OFFSET, K::u32}, {NFTA_PAYLOAD_CSUM_FLAGS, K::u32}};
constexpr Shape kCmp[] = {
    {NFTA_CMP_SREG, K::u32}, {NFTA_CMP_OP, K::u32}, {NFTA_CMP_DATA, K::nested, kData}};
constexpr Shape kMeta[] = {
    {NFTA_META_KEY, K::u32}, {NFTA_META_DREG, K::u32}, {NFTA_META_SREG, K::u32}};
constexpr Shape kCt[] = {{NFTA_CT_KEY, K::u32},
                         {NFTA_CT_DREG, K::u32},
                         {NFTA_CT_SREG, K::u32},
                         {NFTA_CT_DIRECTION, K::u8}};
constexpr Shape kBitwise[] = {{NFTA_BITWISE_SREG, K::u32},
                              {NFTA_BITWISE_DREG, K::u32},
                              {NFTA_BITWISE_OP, K::u32},
                              {NFTA_BITWISE_LEN, K::u32},
                              {NFTA_BITWISE_MASK, K::nested, kData},
                              {NFTA_BITWISE_XOR, K::nested, kData},
                              {NFTA_BITWISE_DATA, K::nested, kData}};
constexpr Shape kImmediate[] = {{NFTA_IMMEDIATE_DREG, K::u32},
                                {NFTA_IMMEDIATE_DATA, K::nested, kData}};
constexpr Shape kMasq[] = {{NFTA_MASQ_FLAGS, K::u32},
                           {NFTA_MASQ_REG_PROTO_MIN, K::u32},
                           {NFTA_MASQ_REG_PROTO_MAX, K::u32}};
constexpr Shape kFlowOffload[] = {{NFTA_FLOW_TABLE_NAME, K::string}};
constexpr Shape kLookup[] = {{NFTA_LOOKUP_SET, K::string},
                             {NFTA_LOOKUP_SREG, K::u32},
                             {NFTA_LOOKUP_DREG, K::u32},
                             {NFTA_LOOKUP_SET_ID, K::u32},
                             {NFTA_LOOKUP_FLAGS, K::u32}};
constexpr Shape kRange[] = {{NFTA_RANGE_SREG, K::u32},
                            {NFTA_RANGE_OP, K::u32},
                            {NFTA_RANGE_FROM_DATA, K::nested, kData},
                            {NFTA_RANGE_TO_DATA, K::nested, kData}};

struct ExpressionShapes {
  std::string_view name;
  std::span<const Shape> data;
};
constexpr ExpressionShapes kExpressions[] = {{"payload", kPayload},
                                             {"cmp", kCmp},
                                             {"meta", kMeta},
                                             {"ct", kCt},
                                             {"bitwise", kBitwise},
                                             {"counter", kCounters},
                                             {"immediate", kImmediate},
                                             {"masq", kMasq},
                                             {"flow_offload", kFlowOffload},
                                             {"lookup", kLookup},
                                             {"range", kRange}};

NftnlShape expression_shape(const nlattr* element) {
  const nlattr* name = nullptr;
  const nlattr* data = nullptr;
  bool fit = true;
  for_each_nested(element, [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NFTA_EXPR_NAME:
        fit = fit && fits(attr, Kind::string);
        name = attr;
        break;
      case NFTA_EXPR_DATA:
        fit = fit && fits(attr, Kind::nested);
        data = attr;
        break;
      default: break;
    }
  });
  if (!fit || name == nullptr) return NftnlShape::refused;
  const std::string_view kind = mnl_attr_get_str(name);
  const auto known = std::find_if(std::begin(kExpressions), std::end(kExpressions),
                                  [kind](const ExpressionShapes& e) { return e.name == kind; });
  if (known == std::end(kExpressions)) return NftnlShape::unchecked;
  if (data == nullptr) return NftnlShape::accepted;
  return attributes_fit(mnl_attr_get_payload(data), mnl_attr_get_payload_len(data), known->data)
             ? NftnlShape::accepted
             : NftnlShape::refused;
}

NftnlShape rule_shape(const nlmsghdr* message) {
  if (mnl_nlmsg_get_payload_len(message) < sizeof(nfgenmsg)) return NftnlShape::refused;
  NftnlShape shape = NftnlShape::accepted;
  bool fit = true;
  for_each_attribute(message, sizeof(nfgenmsg), [&](const nlattr* attr) {
    fit = fit && attribute_fits(attr, kRule);
    if (!fit || mnl_attr_get_type(attr) != NFTA_RULE_EXPRESSIONS) return;
    for_each_nested(attr, [&](const nlattr* element) {
      if (shape == NftnlShape::refused) return;
      const NftnlShape element_shape = expression_shape(element);
      if (element_shape != NftnlShape::accepted) shape = element_shape;
    });
  });
  return fit ? shape : NftnlShape::refused;
}

NftnlShape object_shape(const nlmsghdr* message, std::span<const Shape> shapes) {
  if (mnl_nlmsg_get_payload_len(message) < sizeof(nfgenmsg)) return NftnlShape::refused;
  bool fit = true;
  for_each_attribute(message, sizeof(nfgenmsg),
                     [&](const nlattr* attr) { fit = fit && attribute_fits(attr, shapes); });
  return fit ? NftnlShape::accepted : NftnlShape::refused;
}

}  // namespace

NftnlShape nftnl_shape_of(const nlmsghdr* message) {
  // libmnl reads a message's attributes up to its aligned end, one to three bytes past an
  // unaligned nlmsg_len; the kernel's lengths are always aligned.
  if (message->nlmsg_len != NLMSG_ALIGN(message->nlmsg_len)) return NftnlShape::refused;
  switch (NFNL_MSG_TYPE(message->nlmsg_type)) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_DELTABLE: return object_shape(message, kTable);
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN: return object_shape(message, kChain);
    case NFT_MSG_NEWFLOWTABLE:
    case NFT_MSG_DELFLOWTABLE: return object_shape(message, kFlowtable);
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE: return rule_shape(message);
    default: return NftnlShape::unchecked;
  }
}

namespace {

template <typename Object>
bool parse_if_shaped(const nlmsghdr* message, Object* object,
                     int (*parse)(const nlmsghdr*, Object*)) {
  return nftnl_shape_of(message) != NftnlShape::refused && parse(message, object) >= 0;
}

}  // namespace

bool parse_checked(const nlmsghdr* message, nftnl_table* object) {
  return parse_if_shaped(message, object, nftnl_table_nlmsg_parse);
}

bool parse_checked(const nlmsghdr* message, nftnl_chain* object) {
  return parse_if_shaped(message, object, nftnl_chain_nlmsg_parse);
}

bool parse_checked(const nlmsghdr* message, nftnl_rule* object) {
  return parse_if_shaped(message, object, nftnl_rule_nlmsg_parse);
}

bool parse_checked(const nlmsghdr* message, nftnl_flowtable* object) {
  return parse_if_shaped(message, object, nftnl_flowtable_nlmsg_parse);
}

}  // namespace fnft::netlink
