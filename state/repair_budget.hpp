// Decides when a repair may run, so that a repair war (another agent undoing our rules over
// and over) costs a bounded amount of CPU instead of a spinning core. Pure: time is passed in.
#pragma once

#include <chrono>
#include <cstdint>

namespace fnft::state {

struct RepairBudgetOptions {
  // Repairs allowed back to back before backoff starts, and how fast that allowance refills.
  double burst = 20;
  double refill_per_second = 5;
  std::chrono::milliseconds initial_backoff{100};
  // Short enough that the tables are whole again within about a second of a war's end; a
  // repair costs well under a millisecond, so one a second is still negligible CPU.
  std::chrono::milliseconds max_backoff{1'000};
  // Backoff resets after this long without a repair being needed.
  std::chrono::milliseconds quiet_period{10'000};
};

class RepairBudget {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RepairBudget(RepairBudgetOptions options = {}, Clock::time_point now = {});

  // A repair is needed at `now`: returns the earliest time it may run (`now` when the budget
  // allows it at once). The caller runs the repair then and calls `record_repair`.
  Clock::time_point earliest_repair(Clock::time_point now);
  void record_repair(Clock::time_point now);
  // Ends the backoff once `quiet_period` has passed without a repair; earliest_repair does
  // this itself, callers that only ask `backing_off()` call it first.
  void expire_backoff(Clock::time_point now);

  bool backing_off() const { return backoff_.count() > 0; }
  std::chrono::milliseconds current_backoff() const { return backoff_; }
  std::uint64_t throttled_count() const { return throttled_; }

 private:
  void refill(Clock::time_point now);

  RepairBudgetOptions options_;
  double tokens_;
  Clock::time_point last_refill_;
  Clock::time_point last_repair_;
  std::chrono::milliseconds backoff_{0};
  std::uint64_t throttled_ = 0;
};

}  // namespace fnft::state
