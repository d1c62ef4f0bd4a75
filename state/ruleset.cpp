#include "state/ruleset.hpp"

#include <algorithm>

namespace fnft::state {

const Chain* Table::find_chain(std::string_view chain_name) const {
  const auto it = std::find_if(chains.begin(), chains.end(),
                               [&](const Chain& chain) { return chain.name == chain_name; });
  return it == chains.end() ? nullptr : &*it;
}

const Flowtable* Table::find_flowtable(std::string_view flowtable_name) const {
  const auto it =
      std::find_if(flowtables.begin(), flowtables.end(),
                   [&](const Flowtable& flowtable) { return flowtable.name == flowtable_name; });
  return it == flowtables.end() ? nullptr : &*it;
}

const Table* Ruleset::find_table(Family family, std::string_view table_name) const {
  const auto it = std::find_if(tables.begin(), tables.end(), [&](const Table& table) {
    return table.family == family && table.name == table_name;
  });
  return it == tables.end() ? nullptr : &*it;
}

std::string_view to_string(ChainType type) {
  switch (type) {
    case ChainType::filter: return "filter";
    case ChainType::nat: return "nat";
    case ChainType::route: return "route";
  }
  return "?";
}

std::string_view to_string(Hook hook) {
  switch (hook) {
    case Hook::prerouting: return "prerouting";
    case Hook::input: return "input";
    case Hook::forward: return "forward";
    case Hook::output: return "output";
    case Hook::postrouting: return "postrouting";
  }
  return "?";
}

std::string_view to_string(Policy policy) {
  return policy == Policy::accept ? "accept" : "drop";
}

std::string_view to_string(Protection protection) {
  switch (protection) {
    case Protection::none: return "none";
    case Protection::held: return "held";
    case Protection::orphaned: return "orphaned";
  }
  return "?";
}

}  // namespace fnft::state
