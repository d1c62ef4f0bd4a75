#include "daemon/backends/nftables_backend.hpp"

#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>

#include "netlink/netlink_error.hpp"
#include "netlink/nft_dump.hpp"
#include "state/conntrack_repair.hpp"
#include "state/desired_ruleset.hpp"
#include "state/flanneld_tables.hpp"
#include "state/known_ruleset.hpp"
#include "state/ruleset_diff.hpp"

namespace fnft::daemon {
namespace {

// The families that failed while others committed, in one line.
std::optional<std::string> failures_of(const netlink::ApplyResult& applied) {
  if (applied.failures.empty()) return std::nullopt;
  std::string text;
  for (const auto& failure : applied.failures)
    text += (text.empty() ? "" : "; ") + std::string(failure.what());
  return text;
}

// `desired`: the ruleset the commit was for; null for removals, which restore nothing.
BackendResult result_of(const netlink::ApplyResult& applied,
                        const state::Ruleset* desired = nullptr) {
  BackendResult result;
  result.error = failures_of(applied);
  result.committed = applied.committed;
  for (const auto& operation : applied.applied)
    result.changes.push_back(state::describe(operation));
  result.notes = applied.notes;
  result.generation = netlink::generation_text(applied);
  if (applied.committed) result.committed_at = std::chrono::steady_clock::now();
  result.masquerade_changed =
      desired != nullptr && state::touches_masquerade(applied.applied, *desired);
  return result;
}

// A note names at most this many of the devices left out.
constexpr std::size_t kDevicesNamed = 8;

// The flowtable devices a refused batch shows to be gone: the one the extended ack names, or,
// from kernels that name none (before 6.3: a bare ENOENT), those the kernel no longer knows.
std::vector<std::string> vanished_devices(const netlink::NetlinkError& error,
                                          const state::Target& target);

// The same for every family's refused batch.
std::vector<std::string> vanished_devices(const std::vector<netlink::NetlinkError>& errors,
                                          const state::Target& target) {
  std::vector<std::string> vanished;
  for (const auto& error : errors) {
    for (auto& device : vanished_devices(error, target)) {
      if (std::find(vanished.begin(), vanished.end(), device) == vanished.end())
        vanished.push_back(std::move(device));
    }
  }
  return vanished;
}

std::vector<std::string> vanished_devices(const netlink::NetlinkError& error,
                                          const state::Target& target) {
  const auto& rejected = error.rejected();
  if (!target.fast_path || !rejected) return {};
  // Adding a device that is gone fails, and so does removing one the kernel unbound by itself
  // when it went (after the dump we planned from).
  const bool adds = rejected->type == NFT_MSG_NEWFLOWTABLE;
  if (!adds && rejected->type != NFT_MSG_DELFLOWTABLE) return {};
  const auto& named = adds ? target.fast_path->devices : rejected->devices;
  if (rejected->device) {
    if (std::find(named.begin(), named.end(), *rejected->device) == named.end()) return {};
    return {*rejected->device};
  }
  if (error.error_code() != ENOENT) return {};
  std::vector<std::string> vanished;
  for (const auto& device : named) {
    if (if_nametoindex(device.c_str()) == 0) vanished.push_back(device);
  }
  return vanished;
}

// `vanished` without the devices an earlier round left out already: a device refused twice
// is not one that went, and must end the retries.
std::vector<std::string> newly_vanished(std::vector<std::string> vanished,
                                        const std::vector<std::string>& left_out) {
  std::erase_if(vanished, [&](const std::string& device) {
    return std::find(left_out.begin(), left_out.end(), device) != left_out.end();
  });
  return vanished;
}

}  // namespace

NftablesBackend::NftablesBackend(netlink::NfnlSocket& socket)
    : socket_(socket), tables_(socket), flanneld_tables_(socket, state::flanneld_tables()) {}

std::vector<netlink::WatchedTable> NftablesBackend::watched() const {
  std::vector<netlink::WatchedTable> watched;
  for (const auto& table : tables_.owned_tables())
    watched.push_back({table.family, table.name, {}});
  return watched;
}

void NftablesBackend::apply(const state::Target& target,
                            const std::vector<state::OwnedTable>& scope, Done done) {
  // A repair races the committer's own exit: a process that deleted objects takes the commit
  // mutex again in close() for an RCU grace period (docs/benchmarks.md), so the repair that
  // reaches the kernel first is the one that reads nothing first. A configuration change
  // goes the same way when the tables are known.
  std::vector<std::string> notes;
  if (known_) {
    const state::Ruleset desired = state::desired_nft_ruleset(target);
    try {
      if (auto applied =
              apply_from_known(desired, scope.empty() ? tables_.owned_tables() : scope)) {
        // The read-back verifies it; should what we knew have been wrong, the usual way
        // below puts it right at once.
        if (known_matches(desired)) {
          done(std::move(*applied));
          return;
        }
        notes.push_back("a commit planned from the events left the tables other than desired (" +
                        std::to_string(applied->changes.size()) +
                        " change(s)): read them back and planned again");
      }
    } catch (const std::exception&) {  // ERESTART, or any refusal: the usual way says why
    }
  }
  BackendResult result;
  try {
    // A device can go between the link event that named it and our commit: the kernel then
    // refuses the whole batch, so it is sent again at once rather than leaving every rule of
    // the table waiting. A device whose name is gone is refused both ways, bound (it is
    // missing) and unbound (the kernel still lists it until it unbinds it itself), so the
    // next round plans it as the dump finds it; the link event that follows settles it.
    // Each round leaves alone at least one device not left alone before, so a burst of pods
    // going while we retry ends the loop in at most one round per device.
    // Families are committed one batch each: a family that committed plans nothing the
    // next round, and its changes are kept for the result.
    const std::vector<state::OwnedTable> tables = scope.empty() ? tables_.owned_tables() : scope;
    const state::Ruleset desired = state::desired_nft_ruleset(target);
    std::vector<std::string> left_out;
    netlink::ApplyResult applied;
    for (;;) {
      std::vector<std::string> vanished;
      try {
        netlink::ApplyResult round = tables_.apply(desired, tables, left_out);
        vanished = newly_vanished(vanished_devices(round.failures, target), left_out);
        applied.committed = applied.committed || round.committed;
        applied.applied.insert(applied.applied.end(), round.applied.begin(), round.applied.end());
        applied.notes.insert(applied.notes.end(), round.notes.begin(), round.notes.end());
        if (!applied.generation_before) applied.generation_before = round.generation_before;
        if (round.generation_after) applied.generation_after = round.generation_after;
        applied.failures = std::move(round.failures);
        if (vanished.empty()) break;
      } catch (const netlink::NetlinkError& error) {
        vanished = newly_vanished(vanished_devices(error, target), left_out);
        if (vanished.empty()) {
          if (!applied.committed) throw;
          applied.failures = {error};
          break;
        }
      }
      left_out.insert(left_out.end(), vanished.begin(), vanished.end());
    }
    result = result_of(applied, &desired);
    if (!left_out.empty()) {
      std::string names;
      for (std::size_t i = 0; i < left_out.size() && i < kDevicesNamed; ++i)
        names += (i == 0 ? "" : ", ") + left_out[i];
      if (left_out.size() > kDevicesNamed) names += ", ...";
      notes.push_back(std::to_string(left_out.size()) + " device(s) went away before the commit (" +
                      names +
                      "): left as the kernel held them, which unbinds a device "
                      "itself once it is gone");
    }
  } catch (const std::exception& error) {  // NetlinkError, and bad_alloc, invalid_argument
    result.error = error.what();
  }
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());
  refresh_known(state::desired_nft_ruleset(target));
  done(std::move(result));
}

std::optional<BackendResult> NftablesBackend::apply_from_known(
    const state::Ruleset& desired, const std::vector<state::OwnedTable>& scope) {
  const netlink::ApplyResult applied =
      tables_.apply_known(desired, *known_, known_generation_, scope);
  if (!applied.committed) return std::nullopt;  // nothing to do per what we know: read to be sure
  BackendResult result = result_of(applied, &desired);
  result.notes.emplace_back(
      "planned from what the events say the kernel holds, without reading "
      "it first");
  // What we know is now one commit behind: read it back.
  refresh_known(desired);
  return result;
}

bool NftablesBackend::known_matches(const state::Ruleset& desired) const {
  if (!known_) return false;
  state::Ruleset ordered = *known_;
  netlink::order_chains_like(ordered, desired);
  return ordered == desired;
}

void NftablesBackend::refresh_known(const state::Ruleset& expected) {
  known_.reset();
  try {
    netlink::ObservedRuleset observed = tables_.read(expected);
    if (!observed.generation || !observed.unmodeled.empty()) return;
    known_ = std::move(observed.ruleset);
    known_generation_ = *observed.generation;
  } catch (const std::exception&) {  // the next repair reads them itself
  }
}

void NftablesBackend::note_transaction(const netlink::NftTransaction& transaction) {
  if (!known_ || state::not_newer(transaction.generation, known_generation_)) return;
  // A generation skipped is a commit whose events we did not see.
  if (transaction.generation != state::next_generation(known_generation_)) {
    known_.reset();
    return;
  }
  known_generation_ = transaction.generation;
  if (!transaction.touched_owned) return;
  if (is_own(transaction) || !transaction.only_deletions) {
    known_.reset();
    return;
  }
  for (const auto& deletion : transaction.deletions) {
    if (!state::apply_deletion(*known_, deletion)) {
      known_.reset();
      return;
    }
  }
}

void NftablesBackend::observe(const state::Target& target, Observed done) {
  BackendObservation observation;
  try {
    const state::Ruleset desired = state::desired_nft_ruleset(target);
    state::Ruleset observed = tables_.observe(desired);
    netlink::order_chains_like(observed, desired);
    observation.matches = observed == desired;
    if (!observation.matches) observation.difference = state::diff_text(desired, observed);
  } catch (const std::exception& error) {
    observation.error = error.what();
  }
  done(std::move(observation));
}

void NftablesBackend::read_counters(const state::Target& /*target*/, Counted done) {
  state::RuleCounters counters;
  try {
    counters.rules = state::nft_rule_counters(tables_.observe());
  } catch (const std::exception& error) {
    counters.error = error.what();
  }
  done(std::move(counters));
}

void NftablesBackend::cleanup(Done done) {
  BackendResult result;
  try {
    const netlink::ApplyResult deleted = tables_.cleanup();
    for (const auto& operation : deleted.applied) {
      result.changes.push_back(state::describe(operation));
    }
    result.error = failures_of(deleted);
    const auto earlier =
        flanneld_tables_.apply_plan(state::plan_earlier_flannel_nftd_tables_removal,
                                    "delete the tables an earlier flannel-nftd left");
    for (const auto& operation : earlier.applied) {
      result.changes.push_back(state::describe(operation));
    }
    if (auto failures = failures_of(earlier))
      result.error = result.error ? *result.error + "; " + *failures : *failures;
    result.committed = !result.changes.empty();
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  done(std::move(result));
}

std::vector<netlink::WatchedTable> NftablesBackend::flanneld_watched() const {
  std::vector<netlink::WatchedTable> watched;
  for (const auto& table : flanneld_tables_.owned_tables())
    watched.push_back({table.family, table.name, {}});
  return watched;
}

void NftablesBackend::remove_flanneld_rules(const state::NodeConfig& config, Done done) {
  BackendResult result;
  try {
    const auto removed = flanneld_tables_.apply_plan(
        [&config](const state::Ruleset& observed) {
          return state::plan_flanneld_rules_removal(observed, config);
        },
        "take flanneld's own rules out of its tables");
    result = result_of(removed);
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  done(std::move(result));
}

bool NftablesBackend::is_own(const netlink::NftTransaction& transaction) const {
  return transaction.portid == socket_.portid();
}

}  // namespace fnft::daemon
