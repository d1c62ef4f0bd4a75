#include "state/known_ruleset.hpp"

#include <algorithm>

namespace fnft::state {

bool apply_deletion(Ruleset& ruleset, const Deletion& deletion) {
  auto table = std::find_if(ruleset.tables.begin(), ruleset.tables.end(), [&](const Table& t) {
    return t.family == deletion.family && t.name == deletion.table;
  });
  if (table == ruleset.tables.end()) return false;
  if (deletion.kind == Deletion::Kind::table) {
    if (!table->chains.empty() || !table->flowtables.empty()) return false;
    ruleset.tables.erase(table);
    return true;
  }
  auto chain = std::find_if(table->chains.begin(), table->chains.end(),
                            [&](const Chain& c) { return c.name == deletion.chain; });
  if (chain == table->chains.end()) return false;
  if (deletion.kind == Deletion::Kind::chain) {
    if (!chain->rules.empty()) return false;
    table->chains.erase(chain);
    return true;
  }
  auto rule = std::find_if(chain->rules.begin(), chain->rules.end(),
                           [&](const Rule& r) { return r.handle == deletion.handle; });
  if (deletion.handle == 0 || rule == chain->rules.end()) return false;
  chain->rules.erase(rule);
  return true;
}

std::uint32_t next_generation(std::uint32_t generation) {
  return generation + 1 == 0 ? 1 : generation + 1;
}

bool not_newer(std::uint32_t generation, std::uint32_t reference) {
  return static_cast<std::int32_t>(generation - reference) <= 0;
}

}  // namespace fnft::state
