#include "daemon/core/reconciler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace fnft::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// A failed apply is retried after this, doubling up to the maximum: an obstacle that goes
// away without an event (another process's owned table vanishes with its owner) is noticed
// within a few seconds, and a permanent one costs a dump every few seconds.
constexpr std::chrono::milliseconds kFirstFailureRetry{250};
constexpr std::chrono::milliseconds kMaxFailureRetry{2000};

// Two failures are the same obstacle when their messages differ only in numbers
// (generations, sequence numbers, handles).
std::string without_numbers(const std::string& message) {
  std::string text;
  for (const char c : message) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit) {
      text += c;
    } else if (text.empty() || text.back() != '#') {
      text += '#';
    }
  }
  return text;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string committer(const netlink::NftTransaction& transaction) {
  std::string who = transaction.process_name.empty() ? "unknown process" : transaction.process_name;
  if (transaction.pid != 0) who += " (pid " + std::to_string(transaction.pid) + ")";
  return who;
}

// "nft (pid 42): 6x delrule ip flannel-nftd-ipv4 postrtg, deltable ip flannel-nftd-ipv4": what was
// done to our tables, each kind once with its count, in the order it first happened.
std::string summary(const netlink::NftTransaction& transaction) {
  std::vector<std::pair<std::string, std::size_t>> counted;
  for (const auto& what : transaction.touched) {
    auto it = std::find_if(counted.begin(), counted.end(),
                           [&](const auto& entry) { return entry.first == what; });
    if (it == counted.end()) {
      counted.emplace_back(what, 1);
    } else {
      ++it->second;
    }
  }
  // Table-level changes say the most ("deltable" covers the rule and chain deletions it
  // caused), so they come first, then chains, then rules.
  const auto rank = [](const std::string& what) {
    if (what.find("table ") != std::string::npos) return 0;
    if (what.find("chain ") != std::string::npos) return 1;
    return 2;
  };
  std::stable_sort(counted.begin(), counted.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  std::string text = committer(transaction);
  constexpr std::size_t kShown = 4;
  for (std::size_t i = 0; i < counted.size() && i < kShown; ++i) {
    text += i == 0 ? ": " : ", ";
    if (counted[i].second > 1) text += std::to_string(counted[i].second) + "x ";
    text += counted[i].first;
  }
  if (counted.size() > kShown) text += ", and " + std::to_string(counted.size() - kShown) + " more";
  return text;
}

// "delrule ip flannel-nftd-ipv4 postrtg" -> {"ipv4", "rule"}.
std::pair<std::string, std::string> family_and_object(const std::string& touched) {
  const auto space = touched.find(' ');
  std::string verb = touched.substr(0, space);
  for (const char* prefix : {"add", "del"}) {
    if (verb.rfind(prefix, 0) == 0) verb = verb.substr(3);
  }
  const std::string rest = space == std::string::npos ? "" : touched.substr(space + 1);
  const std::string family = rest.rfind("ip6 ", 0) == 0  ? "ipv6"
                             : rest.rfind("ip ", 0) == 0 ? "ipv4"
                                                         : "all";
  return {family, verb.empty() ? "unknown" : verb};
}

}  // namespace

Reconciler::Reconciler(boost::asio::io_context& io, OwnCommit own, Options options)
    : retry_timer_(io),
      own_(std::move(own)),
      options_(options),
      budget_(options.budget, Clock::now()) {}

void Reconciler::set_target(Backend& backend, state::Target target, const std::string& reason) {
  const bool switched = backend_ != &backend;
  backend_ = &backend;
  // A poll or resync that finds the rules changed is out of sync from then, not only once
  // its repair is done.
  backend.on_divergence([this] { lose_sync(); });
  target_ = std::move(target);
  lose_sync();
  reconcile(switched ? "start of the " + std::string(to_string(backend.kind())) + " mode" : reason,
            /*is_repair=*/false, {});
}

void Reconciler::transactions(const std::vector<netlink::NftTransaction>& transactions) {
  const netlink::NftTransaction* offender = nullptr;
  std::vector<state::OwnedTable> touched;
  bool touched_unknown = false;
  for (const auto& transaction : transactions) {
    if (backend_ != nullptr) backend_->note_transaction(transaction);
    if (own_(transaction)) continue;  // our own commit, seen as an event
    if (!transaction.touched_owned) {
      ++stats_.unrelated_transactions;
      continue;
    }
    ++stats_.foreign_transactions;
    count_foreign_commit(transaction.process_name);
    if (!foreign_since_) foreign_since_ = Clock::now();
    offender = &transaction;
    touched_unknown |= transaction.touched_tables.empty();
    for (const auto& table : transaction.touched_tables) {
      if (std::find(touched.begin(), touched.end(), table) == touched.end())
        touched.push_back(table);
    }
  }
  if (offender == nullptr) return;
  last_offender_ = *offender;
  lose_sync();
  // Only the tables the commit touched need reading; when we cannot tell, all of them.
  request_repair(summary(*offender), touched_unknown ? std::vector<state::OwnedTable>{} : touched);
}

void Reconciler::count_foreign_commit(const std::string& process_name) {
  // Any process can pick its own name, so the label set is bounded: a node has a handful of
  // committers (nft, iptables-nft-re, kube-proxy, calico-node); names past the bound are
  // counted together.
  constexpr std::size_t kMaxCommitterNames = 32;
  std::string name = process_name.empty() ? "unknown" : process_name;
  auto& counts = metrics_.foreign_commits;
  if (!counts.contains(name) && counts.size() >= kMaxCommitterNames) name = "other";
  ++counts[name];
}

void Reconciler::resync(const std::string& reason) {
  // Lost events, or a doubt: what the backend knew of the kernel may be stale.
  if (backend_ != nullptr) backend_->forget_known_state();
  // A resync is a repair like any other: it goes through the same budget, so lost events
  // during a repair war do not bypass the backoff.
  request_repair(reason, {});
}

void Reconciler::request_repair(const std::string& reason,
                                const std::vector<state::OwnedTable>& scope) {
  if (backend_ == nullptr || repair_scheduled_) return;
  const auto now = Clock::now();
  const auto when = budget_.earliest_repair(now);
  if (when <= now) {
    reconcile(reason, /*is_repair=*/true, scope);
    return;
  }
  report_war(now);
  schedule(reason, when);
}

void Reconciler::schedule(const std::string& reason, Clock::time_point when) {
  if (repair_scheduled_) return;
  repair_scheduled_ = true;
  spdlog::debug("next attempt ({}) in {} ms", reason,
                std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count());
  retry_timer_.expires_at(when);
  retry_timer_.async_wait([this, reason](const boost::system::error_code& error) {
    if (error) return;
    repair_scheduled_ = false;
    // Several commits may have come and gone while we waited: look at everything.
    reconcile(reason, /*is_repair=*/true, {});
  });
}

void Reconciler::reconcile(const std::string& reason, bool is_repair,
                           const std::vector<state::OwnedTable>& scope) {
  if (in_flight_) {
    // A start or config change outranks a repair: it must not be lost in the queue.
    if (!queued_ || !is_repair) queued_ = {reason, is_repair};
    return;
  }
  in_flight_ = true;
  const auto started = Clock::now();
  // The backend may complete before apply() returns (nftables) or later (iptables).
  backend_->apply(*target_, scope, [this, reason, is_repair, started](BackendResult result) {
    in_flight_ = false;
    applied(reason, is_repair, started, result);
    if (queued_ && !in_flight_) {
      const auto [next_reason, next_is_repair] = *std::exchange(queued_, std::nullopt);
      reconcile(next_reason, next_is_repair, {});
    }
  });
}

void Reconciler::applied(const std::string& reason, bool is_repair, Clock::time_point started,
                         const BackendResult& result) {
  const auto now_steady = Clock::now();
  const std::string kind = !is_repair ? (reason.rfind("start of", 0) == 0 ? "startup" : "config")
                           : foreign_since_ ? "event"
                                            : "resync";
  metrics_.sync_seconds.try_emplace(kind, latency_buckets())
      .first->second.observe(std::chrono::duration<double>(now_steady - started).count());
  if (result.error) {
    // The families that did commit (each family is its own batch) are in place: say so.
    if (result.committed) {
      spdlog::info("{} after {}, in part: {} change(s) committed{}",
                   is_repair ? "repaired" : "applied", reason, result.changes.size(),
                   result.generation);
      for (const auto& change : result.changes) spdlog::debug("  {}", change);
    }
    failed(reason, *result.error);
    return;
  }
  metrics_.last_success = std::chrono::system_clock::now();
  if (failure_message_) recovered();
  budget_.expire_backoff(Clock::now());
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
  if (result.committed) {
    if (is_repair) {
      ++stats_.repairs;
      budget_.record_repair(Clock::now());
      recent_repairs_.push_back({std::chrono::system_clock::now(), reason, result.changes.size(),
                                 static_cast<std::int64_t>(micros)});
      if (recent_repairs_.size() > kRecentRepairs) recent_repairs_.pop_front();
      if (foreign_since_ && last_offender_) {
        metrics_.repair_latency.observe(
            std::chrono::duration<double>(result.committed_at.value_or(now_steady) -
                                          *foreign_since_)
                .count());
        std::set<std::pair<std::string, std::string>> objects;
        for (const auto& touched : last_offender_->touched)
          objects.insert(family_and_object(touched));
        for (const auto& object : objects) ++metrics_.repairs[object];
      } else {
        ++metrics_.repairs[{"all", "resync"}];
      }
    }
    if (after_commit_) after_commit_(reason, result);
    const auto level = budget_.backing_off() ? spdlog::level::debug : spdlog::level::info;
    spdlog::log(level, "{} after {}: {} change(s) committed in {} us{}",
                is_repair ? "repaired" : "applied", reason, result.changes.size(), micros,
                result.generation);
    for (const auto& note : result.notes) spdlog::log(level, "  {}", note);
    for (const auto& change : result.changes) spdlog::debug("  {}", change);
  } else {
    for (const auto& note : result.notes) spdlog::info("{}", note);
    spdlog::debug("{}: the kernel already holds the desired rules (checked in {} us)", reason,
                  micros);
  }
  foreign_since_.reset();
  // In sync unless another change is already waiting for its turn.
  if (!queued_ && !repair_scheduled_ && !in_sync_since_)
    in_sync_since_ = std::chrono::system_clock::now();
  if (on_reconciled_) on_reconciled_(result.committed);
}

void Reconciler::failed(const std::string& reason, const std::string& error) {
  ++stats_.failures;
  lose_sync();
  ++failed_attempts_;
  const auto now = Clock::now();
  const bool new_obstacle =
      !failure_message_ || without_numbers(*failure_message_) != without_numbers(error);
  if (!failure_message_) failing_since_ = now;
  if (new_obstacle) {
    spdlog::error(
        "could not apply the flannel rules ({}): {}; the rules in place are kept. Retrying "
        "every {} s at most; the same failure is logged again only every {} s",
        reason, error, kMaxFailureRetry.count() / 1000, options_.report_period.count());
    last_failure_report_ = now;
  } else if (now - last_failure_report_ >= options_.report_period) {
    spdlog::warn("still cannot apply the flannel rules: {} failed attempts over {:.0f} s; {}",
                 failed_attempts_, seconds_between(failing_since_, now), error);
    last_failure_report_ = now;
  } else {
    spdlog::debug("apply failed again ({}): {}", reason, error);
  }
  failure_message_ = error;
  // The same short pauses whatever the repair budget says: a failure commits nothing, so it
  // cannot feed a repair war, and the obstacle may vanish without an event.
  auto delay = kFirstFailureRetry;
  for (std::uint64_t i = 1; i < failed_attempts_ && delay < kMaxFailureRetry; ++i) delay *= 2;
  schedule(reason, now + std::min(delay, kMaxFailureRetry));
}

void Reconciler::recovered() {
  spdlog::info("the flannel rules apply again, after {} failed attempt(s) over {:.1f} s",
               failed_attempts_, seconds_between(failing_since_, Clock::now()));
  failure_message_.reset();
  failed_attempts_ = 0;
}

void Reconciler::verify(std::function<void(bool)> done) {
  if (backend_ == nullptr) {
    done(false);
    return;
  }
  backend_->observe(*target_, [done = std::move(done)](const BackendObservation& observed) {
    if (observed.error) {
      spdlog::error("could not read the flannel rules back: {}", *observed.error);
    } else if (!observed.matches) {
      spdlog::warn(
          "the kernel's flannel rules differ from the desired ones after a commit (another "
          "process changed them meanwhile?):\n{}",
          observed.difference);
    }
    done(!observed.error && observed.matches);
  });
}

void Reconciler::report_war(Clock::time_point now) {
  if (last_war_report_ && now - *last_war_report_ < options_.report_period) return;
  const auto repairs = stats_.repairs - repairs_at_last_report_;
  spdlog::warn(
      "repair war: {} keeps changing the flannel rules; {} repairs since the last report, "
      "now waiting {} ms between repairs (stop that process, or make it leave flannel's "
      "rules alone)",
      last_offender_ ? committer(*last_offender_) : std::string("another process"), repairs,
      budget_.current_backoff().count());
  last_war_report_ = now;
  repairs_at_last_report_ = stats_.repairs;
}

}  // namespace fnft::daemon
