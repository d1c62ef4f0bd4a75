// The conntrack reset off the reactor. Reading the conntrack table walks the kernel's whole
// hash, shared by every network namespace, inside one system call: 11-30 ms on a 2-core host
// with 262,144 buckets, seconds with a million entries in it. On the reactor that would hold
// back the next repair, the events and every /healthz answer for as long, and a repair war
// would make the windows it exists to close longer. So each reset runs on a worker thread
// with a ctnetlink socket of its own, deciding with its own copy of the desired rules (the
// decision is a pure function), and its result is posted back to the reactor, which alone
// counts and logs. One reset at a time: a request while one runs waits for it, and requests
// that pile up meanwhile become one. A repair war would keep a core walking without a pause,
// so the next reset starts no sooner than four times the last one's duration after it ended:
// at most a fifth of a core, whatever the war's pace.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "state/ruleset.hpp"

namespace fnft::daemon {

class ConnectionResetter {
 public:
  struct FamilyReset {
    std::size_t examined = 0;  // entries without NAT or reply the kernel returned
    std::size_t reset = 0;
    std::chrono::microseconds took{0};
  };
  struct Result {
    std::string reason;  // what the commit was for, as the reconciler said
    std::map<state::Family, FamilyReset> families;
    std::optional<std::string> error;  // ctnetlink could not be opened or read
  };
  using Done = std::function<void(const Result&)>;

  ConnectionResetter(boost::asio::io_context& io, Done done);
  // Waits for a reset in progress: its deletions are not left half done.
  ~ConnectionResetter();
  ConnectionResetter(const ConnectionResetter&) = delete;
  ConnectionResetter& operator=(const ConnectionResetter&) = delete;

  // Resets the entries of `families` that `rules` would have masqueraded (on the reactor).
  void request(state::Ruleset rules, std::vector<state::Family> families, std::string reason);
  bool running() const { return running_; }

 private:
  struct Job {
    state::Ruleset rules;
    std::vector<state::Family> families;
    std::string reason;
  };
  void start(Job job);
  void finished(const Result& result);
  void start_waiting();

  // The pause after a reset, as a multiple of its duration.
  static constexpr int kPauseFactor = 4;

  boost::asio::io_context& io_;
  Done done_;
  bool running_ = false;
  std::optional<Job> waiting_;
  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point next_start_;  // not before: the pause
  boost::asio::steady_timer pause_;
  bool pausing_ = false;
  std::thread worker_;
  // Expires with this object, so a result posted after it is gone is dropped.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace fnft::daemon
