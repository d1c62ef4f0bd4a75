// A Prometheus server at its most eager: one client fetching /metrics back to back over
// loopback on its own thread, for as long as it lives, so the benchmark can measure what
// scrapes cost the daemon's repairs.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace fnft::bench {

class MetricsScraper {
 public:
  // Starts scraping http://`address`:`port``path` at once.
  MetricsScraper(std::string address, std::uint16_t port, std::string path = "/metrics");
  ~MetricsScraper();  // stops and joins
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // Stops scraping; returns the scrapes answered per second while it ran.
  double stop();
  long answered() const { return answered_.load(); }
  long failed() const { return failed_.load(); }

 private:
  void loop();
  bool scrape_once() const;

  std::string address_;
  std::uint16_t port_;
  std::string path_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> answered_{0};
  std::atomic<long> failed_{0};
  double seconds_ = 0;
  std::thread thread_;
};

}  // namespace fnft::bench
