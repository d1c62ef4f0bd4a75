#include "state/repair_budget.hpp"

#include <algorithm>

namespace fnft::state {

RepairBudget::RepairBudget(RepairBudgetOptions options, Clock::time_point now)
    : options_(options), tokens_(options.burst), last_refill_(now), last_repair_(now) {}

void RepairBudget::refill(Clock::time_point now) {
  const std::chrono::duration<double> elapsed = now - last_refill_;
  if (elapsed.count() <= 0) return;
  tokens_ = std::min(options_.burst, tokens_ + elapsed.count() * options_.refill_per_second);
  last_refill_ = now;
}

RepairBudget::Clock::time_point RepairBudget::earliest_repair(Clock::time_point now) {
  refill(now);
  expire_backoff(now);
  if (tokens_ >= 1 && backoff_.count() == 0) return now;
  // Out of tokens (or already backing off): each further repair waits twice as long.
  backoff_ = backoff_.count() == 0 ? options_.initial_backoff
                                   : std::min(options_.max_backoff, backoff_ * 2);
  ++throttled_;
  return std::max(now, last_repair_ + backoff_);
}

void RepairBudget::expire_backoff(Clock::time_point now) {
  if (backoff_.count() > 0 && now - last_repair_ >= options_.quiet_period) backoff_ = {};
}

void RepairBudget::record_repair(Clock::time_point now) {
  refill(now);
  tokens_ = std::max(0.0, tokens_ - 1);
  last_repair_ = now;
}

}  // namespace fnft::state
