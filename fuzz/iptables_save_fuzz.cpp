// iptables-save output (nft or legacy): read back after every apply and at every poll, and
// planned against. Other components write those tables, so anything may be in them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "state/iptables_plan.hpp"
#include "state/iptables_ruleset.hpp"
#include "state/iptables_save.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fnft::state;
  static const NodeConfig config = fnft::fuzz::example_node_config();
  static const IptablesRuleset desired =
      desired_iptables_ruleset(Family::ipv4, *config.ipv4, config.options);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const IptablesSave saved = parse_iptables_save(text);
  saved.rule_count();
  for (const SavedTable& table : saved.tables)
    for (const SavedRule& rule : table.rules) rule_words(rule.line);
  plan_iptables_changes(desired, saved);
  return 0;
}
