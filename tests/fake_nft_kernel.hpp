// A kernel for NftTableSync that applies batches with state::apply_operations: handles,
// generations, ERESTART for a stale conditional batch, and what a test injects (refusals,
// another process committing between our dump and our commit, tables owned elsewhere).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "netlink/netlink_error.hpp"
#include "netlink/nft_kernel.hpp"
#include "state/known_ruleset.hpp"
#include "state/ruleset_apply.hpp"

namespace fnft::netlink::fakes {

class FakeNftKernel final : public NftKernel {
 public:
  struct Commit {
    std::vector<state::NftOperation> operations;
    std::optional<std::uint32_t> generation;
    bool landed = false;
  };

  state::Ruleset tables;                         // every table the kernel holds
  std::vector<state::UnmodeledTable> unmodeled;  // what of them the model cannot hold
  std::uint32_t generation = 100;
  std::uint32_t port = 4000;
  // The errnos the next batches fail with, whatever they hold.
  std::deque<int> refuse_next;
  // Runs before each batch is looked at: another process committing in between.
  std::function<void(FakeNftKernel&)> before_commit;

  // Another process's commit.
  void commit_elsewhere(const std::function<void(state::Ruleset&)>& change) {
    change(tables);
    generation = state::next_generation(generation);
  }

  const std::vector<Commit>& commits() const { return commits_; }
  std::size_t dumps() const { return dumps_; }

  ObservedRuleset dump(const std::vector<state::OwnedTable>& owned,
                       const state::Ruleset& /*expected*/) override {
    ++dumps_;
    ObservedRuleset observed;
    for (const auto& wanted : owned) {
      if (const auto* table = tables.find_table(wanted.family, wanted.name))
        observed.ruleset.tables.push_back(*table);
      for (const auto& table : unmodeled)
        if (table.family == wanted.family && table.name == wanted.name)
          observed.unmodeled.push_back(table);
    }
    observed.generation = generation;
    return observed;
  }

  void commit(const std::vector<state::NftOperation>& operations,
              std::optional<std::uint32_t> at) override {
    commits_.push_back({operations, at, false});
    if (before_commit) before_commit(*this);
    if (!refuse_next.empty()) {
      const int error = refuse_next.front();
      refuse_next.pop_front();
      throw NetlinkError(error, "the fake kernel refused the batch as told");
    }
    if (at && *at != generation)
      throw NetlinkError(ERESTART, "generation " + std::to_string(*at) + " is gone");
    if (const auto refusal = state::apply_operations(tables, operations))
      throw NetlinkError(refusal->error, refusal->text);
    generation = state::next_generation(generation);
    commits_.back().landed = true;
  }

  std::uint32_t portid() const override { return port; }

 private:
  std::vector<Commit> commits_;
  std::size_t dumps_ = 0;
};

}  // namespace fnft::netlink::fakes
