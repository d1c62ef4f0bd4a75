// Keeps the kernel's flannel tables equal to the desired ruleset: "desired != observed?" ->
// one atomic batch. Every trigger (start, config change, foreign commit, lost events, the
// safety timer) goes through the same path; a repair war is throttled by a RepairBudget.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "netlink/nft_event.hpp"
#include "netlink/nftables_backend.hpp"
#include "state/repair_budget.hpp"
#include "state/ruleset.hpp"

namespace fnft::daemon {

struct ReconcilerStats {
  std::uint64_t repairs = 0;                 // commits that undid someone else's change
  std::uint64_t foreign_transactions = 0;    // touched our tables
  std::uint64_t unrelated_transactions = 0;  // touched only other tables: decoded, nothing else
  std::uint64_t failures = 0;                // applies that failed (and were retried)
};

class Reconciler {
 public:
  struct Options {
    state::RepairBudgetOptions budget;
    // How often a repair war, or a failure that persists, is reported while it lasts.
    std::chrono::seconds report_period{60};
  };

  Reconciler(boost::asio::io_context& io, netlink::NftablesBackend& backend,
             std::uint32_t own_portid, Options options);

  // Called after every successful reconcile with whether it committed.
  void on_reconciled(std::function<void(bool committed)> callback) {
    on_reconciled_ = std::move(callback);
  }

  // A new desired state (start-up or a config change): applied at once, not throttled.
  void set_desired(state::Ruleset desired);
  // Transactions from the event socket; ours and those not touching our tables cost nothing.
  void transactions(const std::vector<netlink::NftTransaction>& transactions);
  // Re-read everything (lost events, the safety timer, SIGHUP).
  void resync(const std::string& reason);

  // Reads the tables back and compares them with the desired state (logs the difference).
  bool kernel_matches_desired();

  const ReconcilerStats& stats() const { return stats_; }
  // Repairs delayed by the war backoff.
  std::uint64_t throttled() const { return budget_.throttled_count(); }
  // The error of the apply that keeps failing, if the last one failed.
  const std::optional<std::string>& failing() const { return failure_message_; }

 private:
  void request_repair(const std::string& reason, const std::vector<state::OwnedTable>& scope);
  void reconcile(const std::string& reason, bool is_repair,
                 const std::vector<state::OwnedTable>& scope);
  void schedule(const std::string& reason, std::chrono::steady_clock::time_point when);
  void report_war(std::chrono::steady_clock::time_point now);
  // Logs a failed apply once per distinct error (and a reminder per report period) and
  // schedules the retry.
  void failed(const std::string& reason, const std::string& error);
  void recovered();

  boost::asio::steady_timer retry_timer_;
  netlink::NftablesBackend& backend_;
  std::uint32_t own_portid_;
  Options options_;
  state::RepairBudget budget_;
  std::optional<state::Ruleset> desired_;
  bool repair_scheduled_ = false;
  std::function<void(bool)> on_reconciled_;
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
};

}  // namespace fnft::daemon
