// Repairs against the real `nft`: each round one mutation by an `nft -f -` process, timed on
// the monitor socket from that process's commit (NEWGEN with its pid) to the daemon's. With
// --protect the kernel refuses the mutation (or, for `flush ruleset`, skips our tables), and
// a round counts what it did to our tables instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/nft_tool_mutations.hpp"
#include "bench/repair_context.hpp"
#include "bench/repair_latency.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::bench {

// A repair that lands later than this lost the race to nft's close(): a won race lands in
// well under a millisecond, a lost one after an RCU grace period (8 ms and more here).
inline constexpr double kLostRaceMicros = 2000;

struct NftToolSamples {
  std::string name;
  bool protect = false;
  std::vector<double> latency_us;  // nft's NEWGEN -> the daemon's NEWGEN
  int lost_race = 0;               // repairs later than kLostRaceMicros
  int refused = 0;                 // nft failed with EPERM
  int skipped = 0;                 // nft succeeded and our tables were left as they were
  int rules_missing = 0;           // rounds after which our tables differed from desired
  int daemon_commits = 0;          // with protect: commits by the daemon (nothing to repair)
  int timeouts = 0;                // no repair within settings.timeout
  int not_restored = 0;            // repaired, but the tables then differed from desired
  std::string refusal;             // nft's first line of complaint, for the report
};

// One table of every phase, markdown (padded for a terminal too).
std::string nft_tool_table(const std::vector<NftToolSamples>& phases);
nlohmann::json nft_tool_json(const std::vector<NftToolSamples>& phases);

NftToolSamples measure_nft_tool(const RepairContext& context, const NftToolMutation& mutation,
                                testkit::TrackedProcess& daemon, const RepairSettings& settings,
                                bool protect);

}  // namespace fnft::bench
