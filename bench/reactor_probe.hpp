// How long the daemon's reactor stops answering: /healthz asked over and over from a thread
// in the daemon's network namespace, each answer's wait recorded. The daemon answers HTTP on
// the same single-threaded reactor that repairs, so the longest wait bounds its longest stall
// from outside, with no help from the daemon.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace fnft::bench {

class ReactorProbe {
 public:
  ReactorProbe(std::string ns, std::string address, std::uint16_t port);
  ~ReactorProbe();
  ReactorProbe(const ReactorProbe&) = delete;
  ReactorProbe& operator=(const ReactorProbe&) = delete;

  struct Waits {
    std::uint64_t answers = 0;
    std::uint64_t failures = 0;  // refused, reset, or no status line
    double longest_ms = 0;
    double median_ms = 0;
  };
  // Stops asking; what the answers took.
  Waits finish();

 private:
  void ask();

  std::string ns_;
  std::string address_;
  std::uint16_t port_;
  std::atomic<bool> asking_{true};
  Waits waits_;
  std::thread thread_;
};

}  // namespace fnft::bench
