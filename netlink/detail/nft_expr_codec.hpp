// One encoder/decoder pair per kind of expression in a state::Rule. Encoders append libnftnl
// expressions to a rule exactly as `nft -f` builds them for the same text; decoders recognise
// those, and nft's other spellings of the same thing, at the front of a run of expressions.
#pragma once

// clang-format off
#include <cstdio>  // libnftnl's headers use FILE without including <stdio.h>
// clang-format on
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "state/ruleset.hpp"

namespace fnft::netlink {

using ExprSpan = std::span<const nftnl_expr* const>;

// What a decoder recognised and how many expressions of the span it used.
template <typename T>
struct Decoded {
  T value;
  std::size_t consumed = 0;
};

void encode_mark_match(nftnl_rule* rule, const state::MarkMatch& match);
std::optional<Decoded<state::MarkMatch>> decode_mark_match(ExprSpan exprs);

// Throws std::invalid_argument when the prefix is not of `family`.
void encode_address_match(nftnl_rule* rule, state::Family family, const state::AddressMatch& match);
std::optional<Decoded<state::AddressMatch>> decode_address_match(ExprSpan exprs,
                                                                 state::Family family);

void encode_ct_state_match(nftnl_rule* rule, const state::CtStateMatch& match);
std::optional<Decoded<state::CtStateMatch>> decode_ct_state_match(ExprSpan exprs);

void encode_counter(nftnl_rule* rule);
// A counter's packets and bytes so far.
struct CounterValues {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};
std::optional<Decoded<CounterValues>> decode_counter(ExprSpan exprs);

// accept, drop, return, jump CHAIN.
void encode_verdict(nftnl_rule* rule, const state::Action& action);
std::optional<Decoded<state::Action>> decode_verdict(ExprSpan exprs);

void encode_masquerade(nftnl_rule* rule, const state::Action& action);
std::optional<Decoded<state::Action>> decode_masquerade(ExprSpan exprs);

// flow add @FLOWTABLE
void encode_offload(nftnl_rule* rule, const state::Action& action);
std::optional<Decoded<state::Action>> decode_offload(ExprSpan exprs);

// Whatever none of the above recognised: the front expression plus the register operations
// (bitwise, cmp, range, lookup) that consume what it loaded, in libnftnl's words, e.g.
// "ct load state => reg 1; bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000; ...".
Decoded<state::UnknownExpression> decode_unknown(ExprSpan exprs);

// One expression as `nft --debug=netlink` shows it, without the brackets.
std::string describe_expression(const nftnl_expr* expr);

}  // namespace fnft::netlink
