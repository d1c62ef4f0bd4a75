#include "daemon/core/connection_resetter.hpp"

#include <boost/asio/post.hpp>
#include <exception>

#include "netlink/conntrack_table.hpp"
#include "state/conntrack_repair.hpp"

namespace fnft::daemon {
namespace {

// On the worker: the whole reset, nothing shared with the reactor but what it was given.
ConnectionResetter::Result reset_now(const state::Ruleset& rules,
                                     const std::vector<state::Family>& families,
                                     std::string reason) {
  ConnectionResetter::Result result;
  result.reason = std::move(reason);
  try {
    netlink::ConntrackTable table;
    for (const auto family : families) {
      const auto started = std::chrono::steady_clock::now();
      const auto reset = table.reset(family, [&](const state::ConntrackEntry& entry) {
        return state::missed_masquerade(rules, entry);
      });
      result.families[family] = {reset.examined, reset.deleted,
                                 std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - started)};
    }
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  return result;
}

}  // namespace

ConnectionResetter::ConnectionResetter(boost::asio::io_context& io, Done done)
    : io_(io), done_(std::move(done)), pause_(io) {}

ConnectionResetter::~ConnectionResetter() {
  if (worker_.joinable()) worker_.join();
}

void ConnectionResetter::request(state::Ruleset rules, std::vector<state::Family> families,
                                 std::string reason) {
  // The latest rules are the ones in force: a request that waits replaces any before it.
  waiting_ = Job{std::move(rules), std::move(families), std::move(reason)};
  if (!running_ && !pausing_) start_waiting();
}

void ConnectionResetter::start_waiting() {
  if (!waiting_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_start_) {
    pausing_ = true;
    pause_.expires_at(next_start_);
    pause_.async_wait([this](const boost::system::error_code& error) {
      if (error) return;
      pausing_ = false;
      start_waiting();
    });
    return;
  }
  Job job = std::move(*waiting_);
  waiting_.reset();
  start(std::move(job));
}

void ConnectionResetter::start(Job job) {
  running_ = true;
  started_at_ = std::chrono::steady_clock::now();
  if (worker_.joinable()) worker_.join();
  worker_ = std::thread([this, job = std::move(job), alive = std::weak_ptr<int>(alive_)] {
    Result result = reset_now(job.rules, job.families, job.reason);
    boost::asio::post(io_, [this, alive, result = std::move(result)] {
      if (alive.expired()) return;
      finished(result);
    });
  });
}

void ConnectionResetter::finished(const Result& result) {
  worker_.join();
  running_ = false;
  const auto now = std::chrono::steady_clock::now();
  next_start_ = now + kPauseFactor * (now - started_at_);
  done_(result);
  start_waiting();
}

}  // namespace fnft::daemon
