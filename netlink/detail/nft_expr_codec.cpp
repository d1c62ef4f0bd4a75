// Over 400 lines because it is one table read both ways: each state::Match and Action and the
// kernel expressions that spell it, encoded and decoded side by side so the two cannot drift.
#include "netlink/detail/nft_expr_codec.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "netlink/detail/nftnl_ptr.hpp"

namespace fnft::netlink {
namespace {

using Bytes = std::span<const std::uint8_t>;

// nft loads into the first 128-bit register; we do the same so our rules read like nft's.
constexpr std::uint32_t kLoadRegister = NFT_REG_1;

bool is(const nftnl_expr* expr, const char* kind) {
  const char* name = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
  return name != nullptr && std::strcmp(name, kind) == 0;
}

Bytes bytes_of(const nftnl_expr* expr, std::uint16_t attribute) {
  std::uint32_t length = 0;
  const void* data = nftnl_expr_get(expr, attribute, &length);
  if (data == nullptr) return {};
  return {static_cast<const std::uint8_t*>(data), length};
}

bool all_zero(Bytes bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

void append(nftnl_rule* rule, NftnlExpr expr) {
  nftnl_rule_add_expr(rule, expr.release());
}

// bitwise reg R = ( reg R & mask ) ^ 0
// nft 1.0.6 names the operation (NFT_BITWISE_BOOL, the default) for `meta mark & M` but not
// for a prefix; we follow it so our messages are byte for byte what nft sends.
enum class BitwiseOp { implicit, explicit_bool };
void encode_mask(nftnl_rule* rule, const void* mask, std::uint32_t length, BitwiseOp op) {
  const std::array<std::uint8_t, 16> zero{};
  NftnlExpr expr = make_expr("bitwise");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_SREG, kLoadRegister);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_DREG, kLoadRegister);
  if (op == BitwiseOp::explicit_bool) {
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
  }
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_BITWISE_LEN, length);
  nftnl_expr_set(expr.get(), NFTNL_EXPR_BITWISE_MASK, mask, length);
  nftnl_expr_set(expr.get(), NFTNL_EXPR_BITWISE_XOR, zero.data(), length);
  append(rule, std::move(expr));
}

// The mask of `bitwise reg R = ( reg R & mask ) ^ 0` over `length` bytes, if `expr` is that.
std::optional<Bytes> decode_mask(const nftnl_expr* expr, std::uint32_t reg, std::uint32_t length) {
  if (!is(expr, "bitwise")) return std::nullopt;
  if (nftnl_expr_get_u32(expr, NFTNL_EXPR_BITWISE_SREG) != reg ||
      nftnl_expr_get_u32(expr, NFTNL_EXPR_BITWISE_DREG) != reg ||
      nftnl_expr_get_u32(expr, NFTNL_EXPR_BITWISE_LEN) != length) {
    return std::nullopt;
  }
  if (nftnl_expr_is_set(expr, NFTNL_EXPR_BITWISE_OP) &&
      nftnl_expr_get_u32(expr, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL) {
    return std::nullopt;
  }
  const Bytes mask = bytes_of(expr, NFTNL_EXPR_BITWISE_MASK);
  const Bytes xor_ = bytes_of(expr, NFTNL_EXPR_BITWISE_XOR);
  if (mask.size() != length || xor_.size() != length || !all_zero(xor_)) return std::nullopt;
  return mask;
}

// cmp eq|neq reg R value
void encode_compare(nftnl_rule* rule, std::uint32_t op, const void* value, std::uint32_t length) {
  NftnlExpr expr = make_expr("cmp");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_SREG, kLoadRegister);
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(expr.get(), NFTNL_EXPR_CMP_DATA, value, length);
  append(rule, std::move(expr));
}

struct Comparison {
  bool negated = false;
  Bytes value;
};

// `cmp eq|neq reg R value` over `length` bytes; other operators (lt, gte, ...) we do not model.
std::optional<Comparison> decode_compare(const nftnl_expr* expr, std::uint32_t reg,
                                         std::uint32_t length) {
  if (!is(expr, "cmp") || nftnl_expr_get_u32(expr, NFTNL_EXPR_CMP_SREG) != reg) return std::nullopt;
  const std::uint32_t op = nftnl_expr_get_u32(expr, NFTNL_EXPR_CMP_OP);
  if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) return std::nullopt;
  const Bytes value = bytes_of(expr, NFTNL_EXPR_CMP_DATA);
  if (value.size() != length) return std::nullopt;
  return Comparison{op == NFT_CMP_NEQ, value};
}

// Leading one bits of a netmask, or nullopt when the mask is not contiguous (10.0.255.0).
std::optional<unsigned> prefix_length_of(Bytes mask) {
  unsigned length = 0;
  bool ended = false;
  for (const std::uint8_t byte : mask) {
    if (ended) {
      if (byte != 0) return std::nullopt;
      continue;
    }
    const auto ones = static_cast<unsigned>(std::countl_one(byte));
    if (ones < 8) {
      if (static_cast<std::uint8_t>(byte << ones) != 0) return std::nullopt;
      ended = true;
    }
    length += ones;
  }
  return length;
}

std::uint32_t address_offset(state::Family family, state::AddressField field) {
  // struct iphdr saddr @ 12, daddr @ 16; struct ipv6hdr saddr @ 8, daddr @ 24.
  if (family == state::Family::ipv4) return field == state::AddressField::saddr ? 12 : 16;
  return field == state::AddressField::saddr ? 8 : 24;
}

}  // namespace

std::string describe_expression(const nftnl_expr* expr) {
  std::array<char, 1024> buffer{};
  nftnl_expr_snprintf(buffer.data(), buffer.size(), expr, NFTNL_OUTPUT_DEFAULT, 0);
  std::string text = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
  text += ' ';
  text += buffer.data();
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// meta mark 0x00004000
//   [ meta load mark => reg 1 ]
//   [ cmp eq reg 1 0x00004000 ]
// meta mark & 0x00004000 == 0x00004000
//   [ meta load mark => reg 1 ]
//   [ bitwise reg 1 = ( reg 1 & 0x00004000 ) ^ 0x00000000 ]
//   [ cmp eq reg 1 0x00004000 ]
// The mark is a host-order u32, as the kernel compares it.
void encode_mark_match(nftnl_rule* rule, const state::MarkMatch& match) {
  NftnlExpr meta = make_expr("meta");
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_KEY, NFT_META_MARK);
  nftnl_expr_set_u32(meta.get(), NFTNL_EXPR_META_DREG, kLoadRegister);
  append(rule, std::move(meta));
  if (match.mask != 0xffffffff)
    encode_mask(rule, &match.mask, sizeof match.mask, BitwiseOp::explicit_bool);
  encode_compare(rule, NFT_CMP_EQ, &match.value, sizeof match.value);
}

std::optional<Decoded<state::MarkMatch>> decode_mark_match(ExprSpan exprs) {
  if (exprs.size() < 2 || !is(exprs[0], "meta")) return std::nullopt;
  const nftnl_expr* meta = exprs[0];
  if (nftnl_expr_get_u32(meta, NFTNL_EXPR_META_KEY) != NFT_META_MARK ||
      !nftnl_expr_is_set(meta, NFTNL_EXPR_META_DREG)) {
    return std::nullopt;
  }
  const std::uint32_t reg = nftnl_expr_get_u32(meta, NFTNL_EXPR_META_DREG);
  state::MarkMatch match;
  std::size_t next = 1;
  if (const auto mask = decode_mask(exprs[next], reg, sizeof match.mask)) {
    std::memcpy(&match.mask, mask->data(), sizeof match.mask);
    ++next;
  }
  if (next >= exprs.size()) return std::nullopt;
  const auto comparison = decode_compare(exprs[next], reg, sizeof match.value);
  // `meta mark != X` is not something we build; leave it to decode_unknown.
  if (!comparison || comparison->negated) return std::nullopt;
  std::memcpy(&match.value, comparison->value.data(), sizeof match.value);
  return Decoded<state::MarkMatch>{match, next + 1};
}

// ip saddr 10.244.0.0/16        (a byte-aligned prefix: nft loads only the prefix bytes)
//   [ payload load 2b @ network header + 12 => reg 1 ]
//   [ cmp eq reg 1 0x0000f40a ]
// ip daddr != 224.0.0.0/4       (any other prefix: the whole address under a mask)
//   [ payload load 4b @ network header + 16 => reg 1 ]
//   [ bitwise reg 1 = ( reg 1 & 0x000000f0 ) ^ 0x00000000 ]
//   [ cmp neq reg 1 0x000000e0 ]
// ip6 daddr != ff00::/8
//   [ payload load 1b @ network header + 24 => reg 1 ]
//   [ cmp neq reg 1 0x000000ff ]
// Addresses are network byte order on the wire and in state::Cidr alike.
void encode_address_match(nftnl_rule* rule, state::Family family,
                          const state::AddressMatch& match) {
  const state::Cidr& prefix = match.prefix;
  if (prefix.family != family) {
    throw std::invalid_argument("cannot match " + prefix.to_string() + " in a table of family " +
                                std::string(state::nft_family_name(family)));
  }
  const bool byte_aligned = prefix.prefix_length % 8 == 0 && prefix.prefix_length > 0;
  const auto length =
      static_cast<std::uint32_t>(byte_aligned ? prefix.prefix_length / 8 : prefix.address_size());
  NftnlExpr payload = make_expr("payload");
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_DREG, kLoadRegister);
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_OFFSET, address_offset(family, match.field));
  nftnl_expr_set_u32(payload.get(), NFTNL_EXPR_PAYLOAD_LEN, length);
  append(rule, std::move(payload));
  const state::Cidr network = prefix.network();
  if (!byte_aligned) encode_mask(rule, prefix.mask().data(), length, BitwiseOp::implicit);
  encode_compare(rule, match.negated ? NFT_CMP_NEQ : NFT_CMP_EQ, network.address.data(), length);
}

std::optional<Decoded<state::AddressMatch>> decode_address_match(ExprSpan exprs,
                                                                 state::Family family) {
  if (exprs.size() < 2 || !is(exprs[0], "payload")) return std::nullopt;
  const nftnl_expr* payload = exprs[0];
  if (nftnl_expr_is_set(payload, NFTNL_EXPR_PAYLOAD_SREG) ||  // a payload write, not a load
      nftnl_expr_get_u32(payload, NFTNL_EXPR_PAYLOAD_BASE) != NFT_PAYLOAD_NETWORK_HEADER) {
    return std::nullopt;
  }
  const std::uint32_t offset = nftnl_expr_get_u32(payload, NFTNL_EXPR_PAYLOAD_OFFSET);
  state::AddressMatch match;
  if (offset == address_offset(family, state::AddressField::saddr)) {
    match.field = state::AddressField::saddr;
  } else if (offset == address_offset(family, state::AddressField::daddr)) {
    match.field = state::AddressField::daddr;
  } else {
    return std::nullopt;
  }
  match.prefix.family = family;
  const std::uint32_t length = nftnl_expr_get_u32(payload, NFTNL_EXPR_PAYLOAD_LEN);
  if (length == 0 || length > match.prefix.address_size()) return std::nullopt;
  const std::uint32_t reg = nftnl_expr_get_u32(payload, NFTNL_EXPR_PAYLOAD_DREG);

  std::size_t next = 1;
  unsigned prefix_length = length * 8;
  std::array<std::uint8_t, 16> mask{};
  std::fill_n(mask.begin(), length, 0xff);
  if (const auto bitwise = decode_mask(exprs[next], reg, length)) {
    const auto ones = prefix_length_of(*bitwise);
    if (!ones) return std::nullopt;
    prefix_length = *ones;
    std::copy(bitwise->begin(), bitwise->end(), mask.begin());
    ++next;
  }
  if (next >= exprs.size()) return std::nullopt;
  const auto comparison = decode_compare(exprs[next], reg, length);
  if (!comparison) return std::nullopt;
  for (std::size_t i = 0; i < length; ++i) {
    // A host bit in the compared value makes `==` never match: not a prefix match at all.
    if ((comparison->value[i] & ~mask[i]) != 0) return std::nullopt;
    match.prefix.address[i] = comparison->value[i];
  }
  match.prefix.prefix_length = static_cast<std::uint8_t>(prefix_length);
  match.negated = comparison->negated;
  return Decoded<state::AddressMatch>{match, next + 1};
}

// ct state established
//   [ ct load state => reg 1 ]
//   [ bitwise reg 1 = ( reg 1 & 0x00000002 ) ^ 0x00000000 ]
//   [ cmp neq reg 1 0x00000000 ]
// The states are a host-order u32 bit mask, as the kernel compares them.
void encode_ct_state_match(nftnl_rule* rule, const state::CtStateMatch& match) {
  NftnlExpr ct = make_expr("ct");
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, kLoadRegister);
  append(rule, std::move(ct));
  // nft 1.0.6 names no bitwise operation here, unlike for `meta mark &`.
  encode_mask(rule, &match.states, sizeof match.states, BitwiseOp::implicit);
  const std::uint32_t zero = 0;
  encode_compare(rule, NFT_CMP_NEQ, &zero, sizeof zero);
}

std::optional<Decoded<state::CtStateMatch>> decode_ct_state_match(ExprSpan exprs) {
  if (exprs.size() < 3 || !is(exprs[0], "ct")) return std::nullopt;
  const nftnl_expr* ct = exprs[0];
  if (nftnl_expr_get_u32(ct, NFTNL_EXPR_CT_KEY) != NFT_CT_STATE ||
      !nftnl_expr_is_set(ct, NFTNL_EXPR_CT_DREG) || nftnl_expr_is_set(ct, NFTNL_EXPR_CT_DIR)) {
    return std::nullopt;
  }
  const std::uint32_t reg = nftnl_expr_get_u32(ct, NFTNL_EXPR_CT_DREG);
  state::CtStateMatch match;
  const auto mask = decode_mask(exprs[1], reg, sizeof match.states);
  if (!mask) return std::nullopt;
  std::memcpy(&match.states, mask->data(), sizeof match.states);
  // `!= 0` after the mask: any of the states. (`== 0`, none of them, is not ours.)
  const auto comparison = decode_compare(exprs[2], reg, sizeof match.states);
  if (!comparison || !comparison->negated || !all_zero(comparison->value)) return std::nullopt;
  return Decoded<state::CtStateMatch>{match, 3};
}

// counter
//   [ counter pkts 0 bytes 0 ]
void encode_counter(nftnl_rule* rule) {
  append(rule, make_expr("counter"));
}

std::optional<Decoded<CounterValues>> decode_counter(ExprSpan exprs) {
  if (exprs.empty() || !is(exprs[0], "counter")) return std::nullopt;
  return Decoded<CounterValues>{{nftnl_expr_get_u64(exprs[0], NFTNL_EXPR_CTR_PACKETS),
                                 nftnl_expr_get_u64(exprs[0], NFTNL_EXPR_CTR_BYTES)},
                                1};
}

// accept | drop | return | jump CHAIN
//   [ immediate reg 0 accept ]
//   [ immediate reg 0 jump -> CHAIN ]
void encode_verdict(nftnl_rule* rule, const state::Action& action) {
  using Kind = state::Action::Kind;
  NftnlExpr expr = make_expr("immediate");
  nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  switch (action.kind) {
    case Kind::accept: nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT); break;
    case Kind::drop: nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT, NF_DROP); break;
    case Kind::return_:
      nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT,
                         static_cast<std::uint32_t>(NFT_RETURN));
      break;
    case Kind::jump:
      nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(NFT_JUMP));
      nftnl_expr_set_str(expr.get(), NFTNL_EXPR_IMM_CHAIN, action.target.c_str());
      break;
    case Kind::none:
    case Kind::masquerade:
    case Kind::offload: throw std::invalid_argument("encode_verdict: not a verdict");
  }
  append(rule, std::move(expr));
}

std::optional<Decoded<state::Action>> decode_verdict(ExprSpan exprs) {
  using Kind = state::Action::Kind;
  if (exprs.empty() || !is(exprs[0], "immediate")) return std::nullopt;
  const nftnl_expr* expr = exprs[0];
  if (nftnl_expr_get_u32(expr, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT ||
      !nftnl_expr_is_set(expr, NFTNL_EXPR_IMM_VERDICT)) {
    return std::nullopt;
  }
  state::Action action;
  switch (static_cast<std::int32_t>(nftnl_expr_get_u32(expr, NFTNL_EXPR_IMM_VERDICT))) {
    case NF_ACCEPT: action.kind = Kind::accept; break;
    case NF_DROP: action.kind = Kind::drop; break;
    case NFT_RETURN: action.kind = Kind::return_; break;
    case NFT_JUMP: {
      const char* chain = nftnl_expr_get_str(expr, NFTNL_EXPR_IMM_CHAIN);
      if (chain == nullptr) return std::nullopt;
      action.kind = Kind::jump;
      action.target = chain;
      break;
    }
    default: return std::nullopt;  // goto, continue, break, queue: not ours
  }
  return Decoded<state::Action>{action, 1};
}

// masquerade fully-random
//   [ masq flags 0x10 ]
// masquerade
//   [ masq ]
void encode_masquerade(nftnl_rule* rule, const state::Action& action) {
  NftnlExpr expr = make_expr("masq");
  // nft sends no flags attribute at all when there are none.
  if (action.fully_random) {
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_RANDOM_FULLY);
  }
  append(rule, std::move(expr));
}

std::optional<Decoded<state::Action>> decode_masquerade(ExprSpan exprs) {
  if (exprs.empty() || !is(exprs[0], "masq")) return std::nullopt;
  const nftnl_expr* expr = exprs[0];
  // `masquerade to :1024-2048` loads ports from registers: not ours.
  if (nftnl_expr_is_set(expr, NFTNL_EXPR_MASQ_REG_PROTO_MIN) ||
      nftnl_expr_is_set(expr, NFTNL_EXPR_MASQ_REG_PROTO_MAX)) {
    return std::nullopt;
  }
  const std::uint32_t flags = nftnl_expr_is_set(expr, NFTNL_EXPR_MASQ_FLAGS)
                                  ? nftnl_expr_get_u32(expr, NFTNL_EXPR_MASQ_FLAGS)
                                  : 0;
  if ((flags & ~static_cast<std::uint32_t>(NF_NAT_RANGE_PROTO_RANDOM_FULLY)) != 0)
    return std::nullopt;
  state::Action action;
  action.kind = state::Action::Kind::masquerade;
  action.fully_random = flags != 0;
  return Decoded<state::Action>{action, 1};
}

// flow add @fastpath
//   [ flow_offload flowtable fastpath ]
void encode_offload(nftnl_rule* rule, const state::Action& action) {
  NftnlExpr expr = make_expr("flow_offload");
  nftnl_expr_set_str(expr.get(), NFTNL_EXPR_FLOW_TABLE_NAME, action.target.c_str());
  append(rule, std::move(expr));
}

std::optional<Decoded<state::Action>> decode_offload(ExprSpan exprs) {
  if (exprs.empty() || !is(exprs[0], "flow_offload")) return std::nullopt;
  const char* flowtable = nftnl_expr_get_str(exprs[0], NFTNL_EXPR_FLOW_TABLE_NAME);
  if (flowtable == nullptr) return std::nullopt;
  return Decoded<state::Action>{state::Action{state::Action::Kind::offload, false, flowtable}, 1};
}

Decoded<state::UnknownExpression> decode_unknown(ExprSpan exprs) {
  std::string description = describe_expression(exprs[0]);
  std::size_t consumed = 1;
  // Operations on the loaded register belong to the same unknown match.
  while (consumed < exprs.size() &&
         (is(exprs[consumed], "bitwise") || is(exprs[consumed], "cmp") ||
          is(exprs[consumed], "range") || is(exprs[consumed], "lookup"))) {
    description += "; " + describe_expression(exprs[consumed]);
    ++consumed;
  }
  return {state::UnknownExpression{std::move(description)}, consumed};
}

}  // namespace fnft::netlink
