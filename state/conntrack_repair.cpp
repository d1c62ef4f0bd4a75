#include "state/conntrack_repair.hpp"

#include <algorithm>
#include <variant>

namespace fnft::state {
namespace {

// NF_CT_STATE_BIT(IP_CT_NEW): the first packet of a connection.
constexpr std::uint32_t kCtStateNew = 0x8;

bool in_prefix(const Cidr& prefix, const std::array<std::uint8_t, 16>& address) {
  const auto mask = prefix.mask();
  for (std::size_t i = 0; i < prefix.address_size(); ++i) {
    if ((address[i] & mask[i]) != (prefix.address[i] & mask[i])) return false;
  }
  return true;
}

// nullopt: the match cannot be judged from an entry.
std::optional<bool> holds(const Match& match, const ConntrackEntry& entry) {
  if (const auto* mark = std::get_if<MarkMatch>(&match)) {
    return (entry.mark & mark->mask) == mark->value;
  }
  if (const auto* address = std::get_if<AddressMatch>(&match)) {
    if (address->prefix.family != entry.family) return false;
    const auto& value = address->field == AddressField::saddr ? entry.source : entry.destination;
    return in_prefix(address->prefix, value) != address->negated;
  }
  if (const auto* state = std::get_if<CtStateMatch>(&match)) {
    return (state->states & kCtStateNew) != 0;
  }
  return std::nullopt;
}

// The verdict of one nat postrouting chain; nullopt when no rule matched (the next chain,
// then the policy, decide).
std::optional<PostroutingVerdict> chain_verdict(const Chain& chain, const ConntrackEntry& entry) {
  for (const Rule& rule : chain.rules) {
    bool all = true;
    for (const Match& match : rule.matches) {
      const auto result = holds(match, entry);
      if (!result) return PostroutingVerdict::unknown;
      if (!*result) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    switch (rule.action.kind) {
      case Action::Kind::none: continue;  // a counter alone
      case Action::Kind::masquerade: return PostroutingVerdict::masquerade;
      case Action::Kind::return_:
      case Action::Kind::accept: return PostroutingVerdict::left_alone;
      case Action::Kind::drop:
      case Action::Kind::jump:
      case Action::Kind::offload: return PostroutingVerdict::unknown;
    }
  }
  return std::nullopt;
}

}  // namespace

PostroutingVerdict postrouting_verdict(const Ruleset& tables, const ConntrackEntry& entry) {
  for (const Table& table : tables.tables) {
    if (table.family != entry.family) continue;
    for (const Chain& chain : table.chains) {
      if (!chain.base || chain.base->type != ChainType::nat ||
          chain.base->hook != Hook::postrouting)
        continue;
      if (const auto verdict = chain_verdict(chain, entry)) {
        if (*verdict != PostroutingVerdict::left_alone) return *verdict;
      }
    }
  }
  return PostroutingVerdict::left_alone;
}

bool missed_masquerade(const Ruleset& tables, const ConntrackEntry& entry) {
  if (entry.source_nat || entry.destination_nat || entry.seen_reply) return false;
  return postrouting_verdict(tables, entry) == PostroutingVerdict::masquerade;
}

bool touches_masquerade(const std::vector<NftOperation>& operations, const Ruleset& desired) {
  const auto is_postrouting = [](const Chain& chain) {
    return chain.base && chain.base->hook == Hook::postrouting;
  };
  return std::any_of(operations.begin(), operations.end(), [&](const NftOperation& operation) {
    const Table* table = desired.find_table(operation.family, operation.table);
    if (table == nullptr) return false;
    if (operation.kind == NftOperation::Kind::add_table ||
        operation.kind == NftOperation::Kind::delete_table) {
      return std::any_of(table->chains.begin(), table->chains.end(), is_postrouting);
    }
    const Chain* chain = operation.chain.empty() ? nullptr : table->find_chain(operation.chain);
    return chain != nullptr && is_postrouting(*chain);
  });
}

}  // namespace fnft::state
