// The ways of keeping flannel's rules, behind one interface (docs/design.md: apply, observe,
// cleanup): NftablesBackend (libnftnl batches on our own netlink socket) and IptablesBackend
// (flanneld's chains through iptables-nft or iptables-legacy, the tools run on the reactor).
// The reconciler, the daemon and the verbs know nothing else. Every call completes through
// its callback, on the reactor; NftablesBackend completes before it returns.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netlink/nft_event.hpp"
#include "state/config.hpp"
#include "state/nft_plan.hpp"
#include "state/rule_counters.hpp"

namespace fnft::daemon {

enum class BackendKind { nftables, iptables_nft, iptables_legacy };

// "nftables", "iptables-nft", "iptables-legacy": what logs and `status` call them.
std::string_view to_string(BackendKind kind);

struct BackendResult {
  // Set when the kernel's state was left as it was, with why and what to do.
  std::optional<std::string> error;
  bool committed = false;
  // What changed, one line each, in the backend's own syntax.
  std::vector<std::string> changes;
  // Why the change is more than the difference asked for (a table re-created, an option the
  // tools lack), for the log.
  std::vector<std::string> notes;
  // " (generation 41 -> 42)", or "" where the backend cannot tell.
  std::string generation;
  // When the kernel acked the commit, where the backend knows it (before it reads back).
  std::optional<std::chrono::steady_clock::time_point> committed_at;
  // The commit changed the masquerade rules (nftables: a nat postrouting chain; iptables: the
  // nat table): only then can connections have met a window without them.
  bool masquerade_changed = false;
};

struct BackendObservation {
  std::optional<std::string> error;
  bool matches = false;
  std::string difference;  // what differs, when it does not match
};

class Backend {
 public:
  using Done = std::function<void(BackendResult)>;
  using Observed = std::function<void(BackendObservation)>;
  using Counted = std::function<void(state::RuleCounters)>;

  virtual ~Backend() = default;

  virtual BackendKind kind() const = 0;
  // The nf_tables objects whose changes may be changes to our rules; empty for
  // iptables-legacy, which has no events and is polled instead.
  virtual std::vector<netlink::WatchedTable> watched() const = 0;
  virtual std::optional<std::chrono::milliseconds> poll_period() const = 0;

  // Brings the kernel to the rules `target` asks for (the iptables modes have no fast path).
  // `scope`: the tables a foreign commit touched (from watched()), the only ones read; empty:
  // all of this mode's, including the families the configuration no longer enables, whose
  // rules go.
  virtual void apply(const state::Target& target, const std::vector<state::OwnedTable>& scope,
                     Done done) = 0;
  // Whether the kernel holds exactly the rules `target` asks for.
  virtual void observe(const state::Target& target, Observed done) = 0;
  // Removes every trace of this mode.
  virtual void cleanup(Done done) = 0;
  // Our rules with their counters as the kernel holds them now, for `status`: within 5 s
  // even when a tool hangs, so `status`'s own 10 s default still gets an answer.
  virtual void read_counters(const state::Target& target, Counted done) = 0;

  // Whether this backend committed the transaction (its own socket, or a tool it ran).
  virtual bool is_own(const netlink::NftTransaction& transaction) const = 0;

  // Every transaction the event stream reports, ours included, in commit order, before any
  // repair it causes: a backend may keep what it last read current with them, and then
  // repair without reading first. After lost events, forget_known_state().
  virtual void note_transaction(const netlink::NftTransaction& /*transaction*/) {}
  virtual void forget_known_state() {}

  // `listener` runs, on the reactor, when an apply has found the kernel other than its target
  // and the change is under way but not done: the iptables tools may wait seconds on the
  // xtables lock, and the node must not be told it is in sync meanwhile.
  void on_divergence(std::function<void()> listener) { divergence_ = std::move(listener); }

 protected:
  void diverged() const {
    if (divergence_) divergence_();
  }

 private:
  std::function<void()> divergence_;
};

}  // namespace fnft::daemon
