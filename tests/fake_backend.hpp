// A Backend whose applies the test scripts and watches: what the reconciler asked, in which
// order, and what it was told, without a kernel or a tool. Completes at once (as the
// nftables backend does) or, with hold(), when the test releases it (as the iptables tools).
#pragma once

#include <deque>
#include <vector>

#include "daemon/backends/backend.hpp"

namespace fnft::daemon::fakes {

class FakeBackend final : public Backend {
 public:
  struct Apply {
    state::Target target;
    std::vector<state::OwnedTable> scope;
    std::size_t transactions_noted = 0;  // how many the backend had been told of by then
  };

  // The results of the next applies, in order; once used up, each apply commits one change.
  std::deque<BackendResult> results;
  // Applies stay open until release().
  void hold() { holding_ = true; }
  void release() {
    holding_ = false;
    auto open = std::move(open_);
    open_.clear();
    for (auto& complete : open) complete();
  }
  // The next apply reports that it found the kernel changed, before it completes.
  bool diverge_on_apply = false;

  const std::vector<Apply>& applies() const { return applies_; }
  const std::vector<netlink::NftTransaction>& noted() const { return noted_; }
  std::size_t known_state_forgotten() const { return forgotten_; }

  BackendKind kind() const override { return BackendKind::nftables; }
  std::vector<netlink::WatchedTable> watched() const override { return {}; }
  std::optional<std::chrono::milliseconds> poll_period() const override { return std::nullopt; }
  void apply(const state::Target& target, const std::vector<state::OwnedTable>& scope,
             Done done) override {
    applies_.push_back({target, scope, noted_.size()});
    if (diverge_on_apply) diverged();
    BackendResult result;
    if (results.empty()) {
      result.committed = true;
      result.changes = {"add rule ip flannel-nftd-ipv4 postrtg ..."};
    } else {
      result = std::move(results.front());
      results.pop_front();
    }
    auto complete = [done = std::move(done), result] { done(result); };
    if (holding_) {
      open_.push_back(std::move(complete));
    } else {
      complete();
    }
  }
  void observe(const state::Target& /*target*/, Observed done) override {
    BackendObservation observation;
    observation.matches = true;
    done(observation);
  }
  void cleanup(Done done) override { done({}); }
  void read_counters(const state::Target& /*target*/, Counted done) override { done({}); }
  bool is_own(const netlink::NftTransaction& /*transaction*/) const override { return false; }
  void note_transaction(const netlink::NftTransaction& transaction) override {
    noted_.push_back(transaction);
  }
  void forget_known_state() override { ++forgotten_; }

 private:
  bool holding_ = false;
  std::vector<std::function<void()>> open_;
  std::vector<Apply> applies_;
  std::vector<netlink::NftTransaction> noted_;
  std::size_t forgotten_ = 0;
};

}  // namespace fnft::daemon::fakes
