#include "bench/repair_latency.hpp"

#include <stdexcept>
#include <thread>

#include "daemon/process/child_process.hpp"
#include "state/desired_ruleset.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration duration) {
  return std::chrono::duration<double, std::micro>(duration).count();
}

// After a timeout or a repair that left something else: the next mutation needs the
// desired tables to start from, so wait (bounded) until the repairer has caught up.
Snapshot wait_until_restored(const RepairContext& context, std::chrono::seconds limit,
                             const std::string& what) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    Snapshot snapshot = take_snapshot(context);
    if (snapshot.matches_desired) return snapshot;
    if (Clock::now() > deadline) {
      throw std::runtime_error(what + ": the flannel tables were not restored within " +
                               std::to_string(limit.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// One mutation and the commit that answers it. `is_repair` recognises the answer.
struct Round {
  std::optional<GenerationEvent> foreign;
  std::optional<GenerationEvent> repair;
  Clock::time_point sent;
  Clock::time_point acked;
};

Round run_round(const RepairContext& context, const Snapshot& before,
                const std::vector<state::NftOperation>& operations,
                const std::function<bool(const GenerationEvent&)>& is_repair,
                const std::function<void()>& after_commit, std::chrono::milliseconds timeout,
                RepairSamples& samples) {
  const std::uint32_t own_portid = context.command.portid();
  const auto skipped = [&](const GenerationEvent& event) {
    if (is_repair(event)) {
      ++samples.extra_repairer_commits;
    } else if (event.portid != own_portid) {
      ++samples.stray_commits;
    }
  };
  Round round;
  round.sent = Clock::now();
  commit(context, operations);
  round.acked = Clock::now();
  if (after_commit) after_commit();
  const auto deadline = round.sent + timeout;
  // Our commit's generation is newer than the snapshot's: older events of ours are stale.
  round.foreign = context.monitor.wait_for(
      [&](const GenerationEvent& event) {
        return event.portid == own_portid && event.generation > before.generation;
      },
      deadline, skipped);
  if (!round.foreign) return round;
  round.repair = context.monitor.wait_for(
      [&](const GenerationEvent& event) {
        return is_repair(event) && event.generation > round.foreign->generation;
      },
      deadline, skipped);
  return round;
}

void record(const Round& round, RepairSamples& samples) {
  samples.latency_us.push_back(micros(round.repair->received - round.foreign->received));
  samples.from_ack_us.push_back(micros(round.repair->received - round.acked));
  samples.from_send_us.push_back(micros(round.repair->received - round.sent));
  samples.monitor_lag_us.push_back(micros(round.foreign->received - round.acked));
}

}  // namespace

RepairSamples measure_repairs(const RepairContext& context, const Mutation& mutation,
                              testkit::TrackedProcess& daemon, const RepairSettings& settings) {
  RepairSamples samples;
  samples.name = mutation.name;
  samples.nft_command = mutation.nft_command;
  const auto daemon_pid = static_cast<std::uint32_t>(daemon.pid());
  const auto is_repair = [&](const GenerationEvent& event) { return event.pid == daemon_pid; };
  Snapshot snapshot = wait_until_restored(context, std::chrono::seconds(10), mutation.name);
  auto next_start = Clock::now();
  for (int i = 0; i < settings.iterations; ++i) {
    std::this_thread::sleep_until(next_start);
    next_start = Clock::now() + settings.pace;
    const Round round = run_round(context, snapshot, mutation.operations(snapshot.ruleset),
                                  is_repair, {}, settings.timeout, samples);
    if (!daemon.running()) {
      throw std::runtime_error("flannel-nftd " + daemon.exit_status() + " during " + mutation.name);
    }
    if (!round.foreign) {
      throw std::runtime_error(mutation.name + ": the monitor never saw our own commit");
    }
    if (!round.repair) {
      ++samples.timeouts;
      snapshot = wait_until_restored(context, std::chrono::seconds(60), mutation.name);
    } else {
      record(round, samples);
      snapshot = take_snapshot(context);
      if (!snapshot.matches_desired) {
        ++samples.not_restored;
        snapshot = wait_until_restored(context, std::chrono::seconds(10), mutation.name);
      }
    }
    std::this_thread::sleep_for(settings.gap);
  }
  return samples;
}

RepairSamples measure_nft_reference(const RepairContext& context, const std::string& restore_text,
                                    const RepairSettings& settings) {
  RepairSamples samples;
  samples.name = "nft -f reference (delete-table)";
  samples.nft_command = "delete table ip flannel-nftd-ipv4, then `nft -f -` re-creates it";
  state::NftOperation delete_table;
  delete_table.kind = state::NftOperation::Kind::delete_table;
  delete_table.family = state::Family::ipv4;
  delete_table.table = std::string(state::kIpv4TableName);

  Snapshot snapshot = wait_until_restored(context, std::chrono::seconds(10), samples.name);
  for (int i = 0; i < settings.iterations; ++i) {
    std::uint32_t nft_pid = 0;
    const auto restore = [&] {
      daemon::ChildProcess nft({"nft", "-f", "-"}, restore_text);
      nft_pid = static_cast<std::uint32_t>(nft.pid());
      const daemon::ChildResult result = nft.wait();
      if (!result.ok()) throw std::runtime_error(result.describe({"nft", "-f", "-"}));
    };
    const Round round = run_round(
        context, snapshot, {delete_table},
        [&](const GenerationEvent& event) { return nft_pid != 0 && event.pid == nft_pid; }, restore,
        settings.timeout, samples);
    if (!round.foreign || !round.repair) {
      ++samples.timeouts;
    } else {
      record(round, samples);
    }
    snapshot = take_snapshot(context);
    if (!snapshot.matches_desired) {
      ++samples.not_restored;
      throw std::runtime_error("`nft -f -` did not restore the desired table");
    }
    std::this_thread::sleep_for(settings.gap);
  }
  return samples;
}

}  // namespace fnft::bench
