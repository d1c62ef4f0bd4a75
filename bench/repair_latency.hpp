// The repair latency: from the NEWGEN of a foreign commit that damaged flannel's tables to
// the NEWGEN of the commit that undid it, both as the monitor saw them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bench/mutations.hpp"
#include "bench/repair_context.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {

struct RepairSettings {
  int iterations = 1000;
  // Minimum time from one mutation to the next: keeps the daemon's repair budget (burst 20,
  // 5 per second) from ever throttling; 0 when the daemon was told a bigger budget.
  std::chrono::milliseconds pace{0};
  // Quiet time after each verified repair, so the daemon has gone back to waiting before
  // the next mutation arrives (it logs and reads its own commit's events after a repair).
  std::chrono::milliseconds gap{2};
  // How long a repair may take before it counts as a timeout.
  std::chrono::milliseconds timeout{2000};
};

struct RepairSamples {
  std::string name;
  std::string nft_command;
  std::vector<double> latency_us;    // monitor: foreign NEWGEN -> repair NEWGEN
  std::vector<double> from_send_us;  // just before our sendmsg -> repair NEWGEN: an upper
                                     // bound that includes our own commit
  // Our batch.send() returned (acks read) -> repair NEWGEN, and -> our own NEWGEN at the
  // monitor. Negative lags show the repairer preempting the benchmark's main thread on its
  // own CPU before that thread had even read its acks: the scheduler, not the daemon.
  std::vector<double> from_ack_us;
  std::vector<double> monitor_lag_us;
  int timeouts = 0;                // no repair within settings.timeout
  int not_restored = 0;            // repaired, but the dump afterwards differed from desired
  int extra_repairer_commits = 0;  // commits by the repairer beyond one per mutation
  int stray_commits = 0;           // commits by anyone else (none expected in our netns)
};

// Mutates, waits for the daemon's repair, verifies the tables, `settings.iterations` times.
RepairSamples measure_repairs(const RepairContext& context, const Mutation& mutation,
                              testkit::TrackedProcess& daemon, const RepairSettings& settings);

// The reference: no daemon; the benchmark itself runs `nft -f -` with `restore_text` the
// moment its own `delete table` is acked, i.e. an nft-based agent with zero detection delay.
RepairSamples measure_nft_reference(const RepairContext& context, const std::string& restore_text,
                                    const RepairSettings& settings);

}  // namespace fnft::bench
