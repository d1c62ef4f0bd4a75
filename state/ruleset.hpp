// An nftables ruleset as plain data: what we want in the kernel and what a dump decoded.
// Values compare with ==, which ignores kernel bookkeeping (handles, counter values), so
// "observed == desired" is the whole question the reconciler asks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "state/cidr.hpp"

namespace fnft::state {

// meta mark & mask == value
struct MarkMatch {
  std::uint32_t mask = 0xffffffff;
  std::uint32_t value = 0;
  friend bool operator==(const MarkMatch&, const MarkMatch&) = default;
};

enum class AddressField : std::uint8_t { saddr, daddr };

// ip saddr 10.244.0.0/16, ip6 daddr != ff00::/8, ...
struct AddressMatch {
  AddressField field = AddressField::saddr;
  bool negated = false;
  Cidr prefix;
  friend bool operator==(const AddressMatch&, const AddressMatch&) = default;
};

// ct state established: the conntrack state is one of those in `states` (bits of
// NF_CT_STATE_BIT: established 0x2, related 0x4, new 0x8, invalid 0x1).
struct CtStateMatch {
  std::uint32_t states = 0;
  friend bool operator==(const CtStateMatch&, const CtStateMatch&) = default;
};

inline constexpr std::uint32_t kCtStateEstablished = 0x2;

// Whatever a dumped rule holds that we do not model. It never equals anything we build,
// so a foreign or altered rule in our chain is always seen as a difference.
struct UnknownExpression {
  std::string description;
  friend bool operator==(const UnknownExpression&, const UnknownExpression&) = default;
};

using Match = std::variant<MarkMatch, AddressMatch, CtStateMatch, UnknownExpression>;

struct Action {
  // offload: `flow add @target`, which puts the connection on a flowtable and goes on.
  enum class Kind : std::uint8_t { none, accept, drop, return_, jump, masquerade, offload };
  Kind kind = Kind::none;
  bool fully_random = false;  // masquerade only
  std::string target;         // jump: the chain; offload: the flowtable
  friend bool operator==(const Action&, const Action&) = default;
};

struct Rule {
  std::vector<Match> matches;
  bool counter = false;
  Action action;
  std::string comment;
  // Kernel handle of an observed rule (0 for desired rules); not part of equality.
  std::uint64_t handle = 0;
  // An observed rule's counter values; not part of equality either.
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;

  friend bool operator==(const Rule& a, const Rule& b) {
    return a.matches == b.matches && a.counter == b.counter && a.action == b.action &&
           a.comment == b.comment;
  }
};

enum class ChainType : std::uint8_t { filter, nat, route };
enum class Hook : std::uint8_t { prerouting, input, forward, output, postrouting };
enum class Policy : std::uint8_t { accept, drop };

inline constexpr std::int32_t kPriorityFilter = 0;
inline constexpr std::int32_t kPrioritySrcNat = 100;

struct BaseChain {
  ChainType type = ChainType::filter;
  Hook hook = Hook::forward;
  std::int32_t priority = kPriorityFilter;
  Policy policy = Policy::accept;
  friend bool operator==(const BaseChain&, const BaseChain&) = default;
};

struct Chain {
  std::string name;
  std::optional<BaseChain> base;  // absent for a regular (jump target) chain
  std::vector<Rule> rules;
  friend bool operator==(const Chain&, const Chain&) = default;
};

// A flowtable (hook ingress): the fast path established connections take once a rule put
// them there, past the forward and postrouting hooks, on the devices it is bound to.
struct Flowtable {
  std::string name;
  std::int32_t priority = kPriorityFilter;
  std::vector<std::string> devices;  // sorted
  bool counter = false;              // conntrack keeps counting offloaded packets
  friend bool operator==(const Flowtable&, const Flowtable&) = default;
};

// Whether the kernel itself keeps others out of a table (`flags owner, persist`, 6.9+): only
// the netlink socket that owns it may change it, and when that socket closes the table stays,
// unowned (orphaned), until a process takes it back.
enum class Protection : std::uint8_t {
  none,      // no flags: anyone with CAP_NET_ADMIN may change it
  held,      // owner and persist, owned by this process's command socket
  orphaned,  // persist, its owner gone: anyone may change it, or take it back
};

struct Table {
  Family family = Family::ipv4;
  std::string name;
  std::vector<Chain> chains;
  std::vector<Flowtable> flowtables;
  Protection protection = Protection::none;
  friend bool operator==(const Table&, const Table&) = default;

  const Chain* find_chain(std::string_view chain_name) const;
  const Flowtable* find_flowtable(std::string_view flowtable_name) const;
};

struct Ruleset {
  std::vector<Table> tables;
  friend bool operator==(const Ruleset&, const Ruleset&) = default;

  const Table* find_table(Family family, std::string_view table_name) const;
};

std::string_view to_string(ChainType type);
std::string_view to_string(Hook hook);
std::string_view to_string(Policy policy);
std::string_view to_string(Protection protection);

}  // namespace fnft::state
