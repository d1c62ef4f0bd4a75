// A repair war is throttled with exponential backoff; normal repairs run at once.
#include "state/repair_budget.hpp"

#include <gtest/gtest.h>

namespace fnft::state {
namespace {

using namespace std::chrono_literals;
using Clock = RepairBudget::Clock;

TEST(RepairBudget, OccasionalRepairsRunImmediately) {
  Clock::time_point now{};
  RepairBudget budget({}, now);
  for (int i = 0; i < 100; ++i) {
    now += 1s;
    EXPECT_EQ(budget.earliest_repair(now), now) << "repair " << i;
    budget.record_repair(now);
  }
  EXPECT_FALSE(budget.backing_off());
}

TEST(RepairBudget, AWarBacksOffExponentiallyUpToTheCap) {
  RepairBudgetOptions options;
  options.burst = 3;
  options.refill_per_second = 0.001;
  Clock::time_point now{};
  RepairBudget budget(options, now);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(budget.earliest_repair(now), now);
    budget.record_repair(now);
  }
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 12; ++i) {
    const auto when = budget.earliest_repair(now);
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
    now = when;
    budget.record_repair(now);
  }
  EXPECT_EQ(delays[0], 100ms);
  EXPECT_EQ(delays[1], 200ms);
  EXPECT_EQ(delays[2], 400ms);
  EXPECT_EQ(delays[3], 800ms);
  // Capped at a second, so the tables are whole within about a second of a war's end.
  EXPECT_EQ(delays[4], 1'000ms);
  EXPECT_EQ(delays.back(), 1'000ms);
  EXPECT_TRUE(budget.backing_off());
  EXPECT_EQ(budget.throttled_count(), 12u);
}

TEST(RepairBudget, BackoffEndsAfterAQuietPeriod) {
  RepairBudgetOptions options;
  options.burst = 1;
  Clock::time_point now{};
  RepairBudget budget(options, now);
  budget.record_repair(now);
  EXPECT_GT(budget.earliest_repair(now), now);
  budget.record_repair(now + 100ms);
  now += 100ms + options.quiet_period;
  EXPECT_EQ(budget.earliest_repair(now), now);
  EXPECT_FALSE(budget.backing_off());
}

}  // namespace
}  // namespace fnft::state
