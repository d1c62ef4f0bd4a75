// Waiting for something to happen, in tests and benchmarks alike.
#pragma once

#include <chrono>
#include <thread>

namespace fnft::testkit {

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
// The timeouts the tests pass are "it happened" bounds, never performance thresholds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace fnft::testkit
