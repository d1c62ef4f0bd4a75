// How fast the fast path's device set follows a burst of pods: with --flowtable running,
// veths enslaved to cni0 in one `ip -batch`, then deleted in another.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/flowtable_node.hpp"

namespace fnft::bench {

struct BurstResult {
  std::string phase;
  std::uint64_t link_events = 0;
  // From the last link event that changed the fast path's devices to the daemon's last
  // commit.
  double last_commit_after_last_event_ms = 0;
  double burst_ms = 0;  // from the start of `ip -batch` to that last change
  int commits = 0;
  std::size_t errors = 0;
  std::vector<std::string> error_lines;
  std::size_t flowtable_devices = 0;
  std::uint64_t monitor_overruns = 0;
};

// Creates `veths` veths on cni0, then deletes them, each phase followed until the node has
// been quiet for a second.
std::vector<BurstResult> measure_burst(FlowtableNode& node, int veths);

}  // namespace fnft::bench
