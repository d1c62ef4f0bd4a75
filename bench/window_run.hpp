// One measured run of bench/broken_flows: a fresh flannel node, `flannel-nftd run` in it,
// new UDP flows from a pod to the outside at a steady rate, and another process's mutation
// of our masquerade rules repeated a number of times; what the flows and the daemon did.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/reactor_probe.hpp"
#include "bench/udp_flows.hpp"

namespace fnft::bench {

struct WindowRunSettings {
  std::string daemon;
  std::vector<std::string> daemon_args;  // the mode's options
  bool conntrack_reset = true;
  std::vector<std::string> mutation;  // argv of the real tool, run in the node
  int windows = 20;
  std::chrono::milliseconds gap{100};
  double flows_per_second = 500;
  // How long unanswered flows keep resending after the last mutation: the daemon's slowest
  // repair (the iptables-legacy mode's poll) plus the resend interval, with margin.
  std::chrono::milliseconds tail{1500};
  // Before the flows start: entries of other traffic in the node's conntrack table.
  std::uint64_t unrelated_entries = 0;
  bool unrelated_answered = true;
  bool probe_reactor = false;  // ask /healthz throughout (the daemon's default address)
};

struct WindowRunResult {
  UdpFlowCounts flows;
  int mutations_accepted = 0;  // the tool's exit 0 (a protected table refuses)
  std::string refusal;         // what the tool said when it refused
  int repairs = 0;             // the daemon's "repaired after" lines
  std::uint64_t connections_reset = 0;
  std::size_t unnated_entries_left = 0;  // pod-to-outside entries without NAT at the end
  std::uint64_t conntrack_entries = 0;   // the node's table before the flows
  std::vector<double> reset_micros;      // each conntrack reset of a repair (both families)
  std::vector<double> examined;          // entries each reset examined
  // From the first mutation to the end: the reactor's thread (schedstat) and the whole
  // process (utime + stime, 10 ms ticks; the conntrack reset's worker thread included).
  double reactor_cpu_ms = 0;
  double daemon_cpu_ms = 0;
  ReactorProbe::Waits reactor;
  std::vector<std::string> daemon_warnings;  // what it logged at warning or above
};

// Throws std::runtime_error when the node cannot be built or the daemon does not start.
WindowRunResult run_windows(const WindowRunSettings& settings);

}  // namespace fnft::bench
