// Keeps the kernel's rules equal to what the configuration asks of the active backend:
// "desired != observed?" -> one atomic change. Every trigger (start, config change, a mode
// switch, a foreign commit, lost events, the safety timer, the iptables-legacy poll) goes
// through the same path; a repair war is throttled by a RepairBudget; a failure is said once
// and retried. One apply at a time: what asks for another meanwhile is coalesced into one
// that follows.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "daemon/backends/backend.hpp"
#include "daemon/observe/node_snapshot.hpp"
#include "netlink/nft_event.hpp"
#include "state/config.hpp"
#include "state/repair_budget.hpp"

namespace fnft::daemon {

class Reconciler {
 public:
  static constexpr std::size_t kRecentRepairs = 10;

  struct Options {
    state::RepairBudgetOptions budget;
    // How often a repair war, or a failure that persists, is reported while it lasts.
    std::chrono::seconds report_period{60};
  };
  // Whether a transaction is one of ours (any backend's socket or tool).
  using OwnCommit = std::function<bool(const netlink::NftTransaction&)>;

  Reconciler(boost::asio::io_context& io, OwnCommit own, Options options);

  // Runs right after each commit that landed whole, with what it was for.
  using AfterCommit = std::function<void(const std::string& reason, const BackendResult&)>;
  void after_commit(AfterCommit callback) { after_commit_ = std::move(callback); }
  // Called after every successful apply with whether it committed.
  void on_reconciled(std::function<void(bool committed)> callback) {
    on_reconciled_ = std::move(callback);
  }

  // A new backend and/or target (start-up, a config change, a mode switch, the fast path's
  // devices): applied at once, not throttled. `reason` is for the log.
  void set_target(Backend& backend, state::Target target,
                  const std::string& reason = "configuration");
  // Transactions from the event socket; ours and those not touching our rules cost nothing.
  void transactions(const std::vector<netlink::NftTransaction>& transactions);
  // Re-read everything (lost events, the safety timer, SIGHUP, the iptables-legacy poll).
  void resync(const std::string& reason);

  // Reads the rules back; `done(true)` when they are exactly the desired ones (a difference
  // is logged).
  void verify(std::function<void(bool matches)> done);

  const ReconcilerStats& stats() const { return stats_; }
  const ReconcilerMetrics& metrics() const { return metrics_; }
  // Repairs delayed by the war backoff.
  std::uint64_t throttled() const { return budget_.throttled_count(); }
  // The error of the apply that keeps failing, if the last one failed.
  const std::optional<std::string>& failing() const { return failure_message_; }
  // Since when the kernel has held exactly the target, as far as the events tell; absent
  // while a change of someone else's waits for its repair or an apply fails.
  std::optional<std::chrono::system_clock::time_point> in_sync_since() const {
    return in_sync_since_;
  }
  // When the kernel last stopped holding the target (meaningful while not in sync).
  std::chrono::steady_clock::time_point out_of_sync_since() const { return out_of_sync_since_; }
  // The last repairs, oldest first.
  const std::deque<RepairRecord>& recent_repairs() const { return recent_repairs_; }
  // A repair war is being throttled now.
  bool backing_off() const { return budget_.backing_off(); }
  std::chrono::milliseconds current_backoff() const { return budget_.current_backoff(); }

 private:
  // Counts one commit by another process under its name, the label set bounded.
  void count_foreign_commit(const std::string& process_name);
  void request_repair(const std::string& reason, const std::vector<state::OwnedTable>& scope);
  void reconcile(const std::string& reason, bool is_repair,
                 const std::vector<state::OwnedTable>& scope);
  void applied(const std::string& reason, bool is_repair,
               std::chrono::steady_clock::time_point started, const BackendResult& result);
  void schedule(const std::string& reason, std::chrono::steady_clock::time_point when);
  void report_war(std::chrono::steady_clock::time_point now);
  // Logs a failed apply once per distinct error (and a reminder per report period) and
  // schedules the retry.
  void failed(const std::string& reason, const std::string& error);
  void recovered();

  boost::asio::steady_timer retry_timer_;
  OwnCommit own_;
  Options options_;
  state::RepairBudget budget_;
  Backend* backend_ = nullptr;
  std::optional<state::Target> target_;
  bool repair_scheduled_ = false;
  // An apply is under way (the iptables tools run on the reactor); another one asked for
  // meanwhile runs after it, once, over everything.
  bool in_flight_ = false;
  std::optional<std::pair<std::string, bool>> queued_;  // reason, is_repair
  std::function<void(bool)> on_reconciled_;
  AfterCommit after_commit_;
  ReconcilerStats stats_;
  // The repair war report: who undid us, and when we last said so.
  std::optional<netlink::NftTransaction> last_offender_;
  std::optional<std::chrono::steady_clock::time_point> last_war_report_;
  std::uint64_t repairs_at_last_report_ = 0;
  // A failure that persists: since when, how often, and when we last said so.
  std::optional<std::string> failure_message_;
  std::chrono::steady_clock::time_point failing_since_;
  std::chrono::steady_clock::time_point last_failure_report_;
  std::uint64_t failed_attempts_ = 0;
  std::optional<std::chrono::system_clock::time_point> in_sync_since_;
  std::chrono::steady_clock::time_point out_of_sync_since_ = std::chrono::steady_clock::now();
  void lose_sync() {
    if (in_sync_since_) out_of_sync_since_ = std::chrono::steady_clock::now();
    in_sync_since_.reset();
  }
  std::deque<RepairRecord> recent_repairs_;
  ReconcilerMetrics metrics_;
  // When the first foreign commit not yet repaired arrived.
  std::optional<std::chrono::steady_clock::time_point> foreign_since_;
};

}  // namespace fnft::daemon
