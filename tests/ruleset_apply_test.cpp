// The kernel's twin (state::apply_operations) and, through it, the planner's promise: for
// any state our tables can be found in, the plan applies and leaves nothing to plan.
#include "state/ruleset_apply.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "state/desired_ruleset.hpp"
#include "state/nft_text.hpp"
#include "tests/planned_rulesets.hpp"

namespace fnft::state {
namespace {

using fixtures::described;
using fixtures::plan_text;
using fixtures::with_handles;

const std::vector<OwnedTable> kOwned = {{Family::ipv4, "flannel-nftd-ipv4"},
                                        {Family::ipv6, "flannel-nftd-ipv6"}};

NodeConfig dual_stack(int subnet = 1) {
  NodeConfig config;
  config.ipv4 = FamilyNetworks{*parse_cidr("10.244.0.0/16"),
                               *parse_cidr("10.244." + std::to_string(subnet) + ".0/24")};
  config.ipv6 = FamilyNetworks{*parse_cidr("fd00:10:244::/56"),
                               *parse_cidr("fd00:10:244:" + std::to_string(subnet) + "::/64")};
  return config;
}

NftOperation operation(NftOperation::Kind kind, const std::string& chain = "") {
  NftOperation op;
  op.kind = kind;
  op.table = "t";
  op.chain = chain;
  return op;
}

TEST(RulesetApply, ARefusedBatchChangesNothing) {
  Ruleset ruleset = with_handles(desired_nft_ruleset(dual_stack()));
  const Ruleset before = ruleset;
  NftOperation flush = operation(NftOperation::Kind::flush_chain, "postrtg");
  flush.table = "flannel-nftd-ipv4";
  NftOperation gone = operation(NftOperation::Kind::delete_rule, "postrtg");
  gone.table = "flannel-nftd-ipv4";
  gone.handle = 9999;
  const auto refusal = apply_operations(ruleset, {flush, gone});
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->error, ENOENT) << refusal->text;
  EXPECT_EQ(ruleset, before);
  EXPECT_EQ(ruleset.tables[0].chains[0].rules.size(), before.tables[0].chains[0].rules.size());
}

TEST(RulesetApply, RefusesWhatTheKernelRefuses) {
  Ruleset ruleset;
  NftOperation table = operation(NftOperation::Kind::add_table);
  NftOperation chain = operation(NftOperation::Kind::add_chain, "c");
  NftOperation rule = operation(NftOperation::Kind::add_rule, "c");
  rule.rule.comment = "r";
  ASSERT_FALSE(apply_operations(ruleset, {table, chain, rule}));
  EXPECT_EQ(ruleset.tables.at(0).chains.at(0).rules.at(0).handle, 2u);

  Ruleset copy = ruleset;
  const auto busy = apply_operations(copy, {operation(NftOperation::Kind::delete_chain, "c")});
  ASSERT_TRUE(busy.has_value());
  EXPECT_NE(busy->text.find("EBUSY"), std::string::npos) << busy->text;

  // A table taken back from an owner that exited takes no new base chain in that batch.
  ruleset.tables[0].protection = Protection::orphaned;
  NftOperation take_back = table;
  take_back.protection = Protection::held;
  NftOperation base = operation(NftOperation::Kind::add_chain, "b");
  base.base = BaseChain{};
  copy = ruleset;
  const auto invalid = apply_operations(copy, {take_back, base});
  ASSERT_TRUE(invalid.has_value());
  EXPECT_NE(invalid->text.find("EINVAL"), std::string::npos) << invalid->text;
  EXPECT_FALSE(apply_operations(copy, {take_back}));
  EXPECT_EQ(copy.tables[0].protection, Protection::held);
}

// ---- The planner against random states --------------------------------------------------

class Mutator {
 public:
  explicit Mutator(unsigned seed) : random_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }
  bool coin() { return below(2) == 0; }

  Ruleset desired() {
    const NodeConfig config = dual_stack(static_cast<int>(1 + below(3)));
    NodeConfig chosen = config;
    const auto stack = below(3);
    if (stack == 1) chosen.ipv6.reset();
    if (stack == 2) chosen.ipv4.reset();
    std::optional<FastPath> fast_path;
    if (coin()) {
      static const std::vector<std::string> kDevices = {"cni0", "flannel.1", "veth1", "veth2"};
      FastPath path;
      for (const auto& device : kDevices)
        if (coin()) path.devices.push_back(device);
      if (path.devices.empty()) path.devices.push_back("cni0");
      path.counter = coin();
      fast_path = path;
    }
    return desired_nft_ruleset(chosen, fast_path, coin() ? Protection::held : Protection::none);
  }

  // What a dump could find: another desired state, or this one, changed by hand a few times.
  Ruleset observed(const Ruleset& desired) {
    Ruleset found = below(4) == 0 ? Ruleset{} : (coin() ? desired : this->desired());
    const std::size_t changes = below(5);
    for (std::size_t i = 0; i < changes; ++i) mutate(found);
    if (coin()) {  // a table that is not ours, which no plan may touch
      Table alien;
      alien.name = "kube-proxy";
      alien.chains.push_back(Chain{"c", BaseChain{}, {foreign_rule()}});
      found.tables.insert(found.tables.begin() + static_cast<long>(below(found.tables.size() + 1)),
                          alien);
    }
    return with_handles(found);
  }

 private:
  static Rule foreign_rule() {
    return Rule{{UnknownExpression{"log"}}, false, Action{Action::Kind::drop, false, {}}, "", 0};
  }

  void mutate(Ruleset& ruleset) {
    if (ruleset.tables.empty()) return;
    Table& table = ruleset.tables[below(ruleset.tables.size())];
    switch (below(11)) {
      case 0: table.protection = static_cast<Protection>(below(3)); return;
      case 1:
        ruleset.tables.erase(ruleset.tables.begin() + (&table - ruleset.tables.data()));
        return;
      case 2:
        table.chains.push_back(
            Chain{"extra" + std::to_string(below(100)), std::nullopt, {foreign_rule()}});
        return;
      case 3:
        if (!table.flowtables.empty()) {
          auto& devices = table.flowtables[0].devices;
          if (coin() && !devices.empty())
            devices.erase(devices.begin() + static_cast<long>(below(devices.size())));
          else
            devices.push_back("veth9");
          std::sort(devices.begin(), devices.end());
          devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
          if (coin()) table.flowtables[0].priority += 10;
        }
        return;
      default: break;
    }
    if (table.chains.empty()) return;
    Chain& chain = table.chains[below(table.chains.size())];
    auto& rules = chain.rules;
    switch (below(7)) {
      case 0:
        if (!rules.empty()) rules.erase(rules.begin() + static_cast<long>(below(rules.size())));
        return;
      case 1:
        rules.insert(rules.begin() + static_cast<long>(below(rules.size() + 1)), foreign_rule());
        return;
      case 2:
        if (rules.size() > 1) std::swap(rules[below(rules.size())], rules[below(rules.size())]);
        return;
      case 3:
        if (!rules.empty())
          rules.insert(rules.begin() + static_cast<long>(below(rules.size() + 1)),
                       rules[below(rules.size())]);
        return;
      case 4:
        if (chain.base) chain.base->policy = coin() ? Policy::drop : Policy::accept;
        return;
      case 5:
        if (chain.base) chain.base->priority += 1;
        return;
      case 6: {
        const bool used =
            std::any_of(table.chains.begin(), table.chains.end(), [&](const Chain& c) {
              return std::any_of(c.rules.begin(), c.rules.end(), [&](const Rule& r) {
                return r.action.kind == Action::Kind::jump && r.action.target == chain.name;
              });
            });
        if (!used) table.chains.erase(table.chains.begin() + (&chain - table.chains.data()));
        return;
      }
    }
  }

  std::mt19937 random_;
};

// Equal as the kernel means it: the same objects by name, whatever order they were made in.
testing::AssertionResult holds(const Ruleset& have, const Ruleset& want) {
  for (const auto& table : want.tables) {
    const Table* found = have.find_table(table.family, table.name);
    if (found == nullptr) return testing::AssertionFailure() << "missing table " << table.name;
    if (found->protection != table.protection)
      return testing::AssertionFailure() << table.name << " protection differs";
    if (found->chains.size() != table.chains.size() || found->flowtables != table.flowtables)
      return testing::AssertionFailure() << table.name << " has other chains or flowtables";
    for (const auto& chain : table.chains) {
      const Chain* other = found->find_chain(chain.name);
      if (other == nullptr || !(*other == chain))
        return testing::AssertionFailure() << table.name << " chain " << chain.name << " differs";
    }
  }
  for (const auto& table : have.tables) {
    const bool owned = std::find(kOwned.begin(), kOwned.end(),
                                 OwnedTable{table.family, table.name}) != kOwned.end();
    if (owned && want.find_table(table.family, table.name) == nullptr)
      return testing::AssertionFailure() << "table " << table.name << " should be gone";
  }
  return testing::AssertionSuccess();
}

TEST(PlanProperty, EveryPlanAppliesAndLeavesNothingToPlan) {
  constexpr unsigned kCases = 3000;
  for (unsigned seed = 1; seed <= kCases; ++seed) {
    Mutator mutator(seed);
    const Ruleset desired = mutator.desired();
    const Ruleset observed = mutator.observed(desired);
    const auto plan = plan_nft_changes(desired, observed, kOwned);
    Ruleset applied = observed;
    const auto refusal = apply_operations(applied, plan);
    ASSERT_FALSE(refusal) << "seed " << seed << ": " << refusal->text << "\n" << plan_text(plan);
    const auto again = plan_nft_changes(desired, applied, kOwned);
    ASSERT_TRUE(again.empty()) << "seed " << seed << ": planned again\n"
                               << plan_text(again) << "after\n"
                               << plan_text(plan);
    ASSERT_TRUE(holds(applied, desired)) << "seed " << seed << "\n" << plan_text(plan);
    const Table* alien = observed.find_table(Family::ipv4, "kube-proxy");
    if (alien != nullptr) {
      const Table* kept = applied.find_table(Family::ipv4, "kube-proxy");
      ASSERT_TRUE(kept != nullptr && *kept == *alien) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace fnft::state
