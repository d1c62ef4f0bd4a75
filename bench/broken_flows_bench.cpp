// bench/broken_flows: how many connections another process's change to our masquerade rules
// breaks for good, with and without the daemon's conntrack reset (--conntrack-reset), and
// what the reset costs: per repair, and on a node whose table holds many unrelated entries.
//
// For every mode and mutation: a fresh flannel node (testkit's, real veths and namespaces),
// `flannel-nftd run` in it, a pod opening new UDP flows to the outside at a steady rate (each
// resent every 200 ms until answered), and the real tool (`nft`, `iptables-nft`,
// `iptables-legacy`) removing our masquerade rules a number of times. A flow never answered
// by the end is broken: its first datagram met the window and its conntrack entry kept every
// resend unmasqueraded. Prints tables and writes broken_flows.md and broken_flows.json.
// Not a test: it asserts nothing about the numbers.
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/bench_main.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "bench/window_run.hpp"
#include "testkit/network_namespace.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

struct Options {
  std::string daemon = FNFT_DAEMON_BINARY;
  int windows = 20;
  int gap_ms = 100;
  double flows_per_second = 500;
  int tail_ms = 1500;
  double legacy_resync = 5;
  std::uint64_t unrelated_entries = 0;
  bool unrelated_unanswered = false;
  int cost_windows = 5;
  bool busy_table_only = false;
  std::vector<std::string> only;
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

struct Scenario {
  std::string mode;
  std::vector<std::string> daemon_args;
  std::string mutation_name;
  std::vector<std::string> mutation;
  bool legacy = false;  // the window lasts until the next poll
};

std::vector<Scenario> scenarios(const Options& options) {
  const std::vector<std::string> flush_chain = {
      "nft", "flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"};
  const std::string resync = "--iptables-resync=" + fixed(options.legacy_resync, 1);
  return {
      {"nftables --protect=off", {"--protect=off"}, "nft flush chain", flush_chain},
      {"nftables --protect=off",
       {"--protect=off"},
       "nft delete table",
       {"nft", "delete", "table", "ip", "flannel-nftd-ipv4"}},
      {"nftables --protect=on", {"--protect=on"}, "nft flush chain", flush_chain},
      {"iptables-nft",
       {"--mode=iptables", "--iptables-backend=nft"},
       "-t nat -F FLANNEL-POSTRTG",
       {"iptables-nft", "-t", "nat", "-F", "FLANNEL-POSTRTG"}},
      {"iptables-nft",
       {"--mode=iptables", "--iptables-backend=nft"},
       "-t nat -F (every chain)",
       {"iptables-nft", "-t", "nat", "-F"}},
      {"iptables-legacy",
       {"--mode=iptables", "--iptables-backend=legacy", resync},
       "-t nat -F FLANNEL-POSTRTG",
       {"iptables-legacy", "-t", "nat", "-F", "FLANNEL-POSTRTG"},
       true},
      {"iptables-legacy",
       {"--mode=iptables", "--iptables-backend=legacy", resync},
       "-t nat -F (every chain)",
       {"iptables-legacy", "-t", "nat", "-F"},
       true},
  };
}

bool selected(const Options& options, const Scenario& scenario) {
  if (options.only.empty()) return true;
  for (const auto& word : options.only) {
    if (scenario.mode.find(word) != std::string::npos ||
        scenario.mutation_name.find(word) != std::string::npos)
      return true;
  }
  return false;
}

// Enough open files for every flow a long window leaves unanswered (iptables-legacy's 5 s
// at 500 flows/s).
void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string median_of(const std::vector<double>& samples, int decimals) {
  return samples.empty() ? "-" : fixed(summarize(samples).median, decimals);
}

nlohmann::json to_json(const WindowRunResult& run) {
  return {{"flows_opened", run.flows.opened},
          {"answered_first_try", run.flows.answered_first_try},
          {"answered_late", run.flows.answered_late},
          {"never_answered", run.flows.never_answered},
          {"mutations_accepted", run.mutations_accepted},
          {"repairs", run.repairs},
          {"connections_reset", run.connections_reset},
          {"unnated_entries_left", run.unnated_entries_left},
          {"conntrack_entries", run.conntrack_entries},
          {"reset_us", run.reset_micros},
          {"examined", run.examined},
          {"reactor_cpu_ms", run.reactor_cpu_ms},
          {"daemon_cpu_ms", run.daemon_cpu_ms},
          {"healthz_answers", run.reactor.answers},
          {"healthz_failures", run.reactor.failures},
          {"healthz_longest_ms", run.reactor.longest_ms},
          {"healthz_median_ms", run.reactor.median_ms},
          {"daemon_warnings", run.daemon_warnings}};
}

// The reset's cost where the table is full of other traffic: the same repairs with and
// without it, /healthz asked throughout.
void measure_busy_table(const Options& options, MarkdownTable& table, nlohmann::json& json) {
  for (const bool reset : {false, true}) {
    WindowRunSettings settings;
    settings.daemon = options.daemon;
    settings.daemon_args = {"--protect=off"};
    settings.conntrack_reset = reset;
    settings.mutation = {"nft", "flush", "chain", "ip", "flannel-nftd-ipv4", "postrtg"};
    settings.windows = options.cost_windows;
    settings.gap = std::chrono::milliseconds(1000);
    settings.flows_per_second = options.flows_per_second;
    settings.tail = std::chrono::milliseconds(options.tail_ms);
    settings.unrelated_entries = options.unrelated_entries;
    settings.unrelated_answered = !options.unrelated_unanswered;
    settings.probe_reactor = true;
    std::cout << "busy table, --conntrack-reset=" << (reset ? "on" : "off") << " ..." << std::flush;
    const WindowRunResult run = run_windows(settings);
    for (std::size_t i = 0; i < run.daemon_warnings.size() && i < 3; ++i)
      std::cout << "\n  the daemon: " << run.daemon_warnings[i];
    std::cout << " " << run.conntrack_entries << " entries, healthz longest "
              << fixed(run.reactor.longest_ms, 1) << " ms\n";
    table.add_row({reset ? "on" : "off", std::to_string(run.conntrack_entries),
                   std::to_string(run.repairs), median_of(run.examined, 0),
                   median_of(run.reset_micros, 0),
                   run.reset_micros.empty() ? "-" : fixed(summarize(run.reset_micros).max, 0),
                   fixed(run.reactor.median_ms, 2), fixed(run.reactor.longest_ms, 1),
                   std::to_string(run.flows.never_answered)});
    json.push_back(to_json(run));
    json.back()["conntrack_reset"] = reset;
  }
}

int run(const Options& options) {
  raise_open_files_limit();
  testkit::remove_stale_namespaces();
  const MachineInfo machine = machine_info();
  MarkdownTable broken({"mode", "mutation", "reset", "windows", "repairs", "flows", "late",
                        "broken", "unNATed left", "reset", "reset us (p50)", "reactor CPU ms",
                        "daemon CPU ms"});
  nlohmann::json json = {{"machine", {{"kernel", machine.kernel}, {"cpus", machine.cpus}}},
                         {"windows", options.windows},
                         {"gap_ms", options.gap_ms},
                         {"flows_per_second", options.flows_per_second},
                         {"runs", nlohmann::json::array()}};
  std::vector<std::string> notes;
  for (const auto& scenario : scenarios(options)) {
    if (options.busy_table_only || !selected(options, scenario)) continue;
    for (const bool reset : {false, true}) {
      WindowRunSettings settings;
      settings.daemon = options.daemon;
      settings.daemon_args = scenario.daemon_args;
      settings.conntrack_reset = reset;
      settings.mutation = scenario.mutation;
      settings.windows = options.windows;
      settings.gap = std::chrono::milliseconds(options.gap_ms);
      settings.flows_per_second = options.flows_per_second;
      settings.tail = std::chrono::milliseconds(
          options.tail_ms + (scenario.legacy ? static_cast<int>(options.legacy_resync * 1000) : 0));
      const std::string label = scenario.mode + ", " + scenario.mutation_name +
                                ", --conntrack-reset=" + (reset ? "on" : "off");
      std::cout << label << " ..." << std::flush;
      WindowRunResult run;
      try {
        run = run_windows(settings);
      } catch (const std::exception& error) {
        const std::string what = error.what();
        std::cout << " not run: " << what.substr(0, what.find('\n')) << "\n";
        notes.push_back(label + ": not run: " + what.substr(0, what.find('\n')));
        continue;
      }
      std::cout << " " << run.flows.never_answered << " of " << run.flows.opened
                << " flows broken\n";
      if (run.mutations_accepted == 0 && !run.refusal.empty()) {
        notes.push_back(
            label + ": every mutation refused: " + run.refusal.substr(0, run.refusal.find('\n')));
      }
      broken.add_row({scenario.mode, scenario.mutation_name, reset ? "on" : "off",
                      std::to_string(run.mutations_accepted), std::to_string(run.repairs),
                      std::to_string(run.flows.opened), std::to_string(run.flows.answered_late),
                      std::to_string(run.flows.never_answered),
                      std::to_string(run.unnated_entries_left),
                      std::to_string(run.connections_reset), median_of(run.reset_micros, 0),
                      fixed(run.reactor_cpu_ms, 1), fixed(run.daemon_cpu_ms, 0)});
      nlohmann::json entry = to_json(run);
      entry["mode"] = scenario.mode;
      entry["mutation"] = scenario.mutation_name;
      entry["conntrack_reset"] = reset;
      json["runs"].push_back(entry);
    }
  }

  std::ostringstream markdown;
  markdown << "# bench/broken_flows\n\n"
           << describe(machine) << "\n"
           << "A pod opens " << fixed(options.flows_per_second, 0)
           << " new UDP flows per second to the outside (each resent every 200 ms until "
              "answered) while the mutation runs "
           << options.windows << " times, " << options.gap_ms
           << " ms apart. windows: mutations the tool made; late: flows answered only on a "
              "resend; broken: never answered by the end; unNATed left: pod-to-outside "
              "conntrack entries without NAT at the end; reset: entries the daemon deleted; "
              "reset us: one reset's time (both families, on the daemon's worker thread); "
              "reactor CPU: the daemon's main thread (schedstat), daemon CPU: the whole process "
              "(utime + stime, 10 ms ticks), both from the first mutation to the end.\n\n"
           << broken.text();
  std::cout << "\n" << broken.text();
  if (options.unrelated_entries > 0) {
    MarkdownTable busy({"reset", "conntrack entries", "repairs", "examined (p50)", "reset us (p50)",
                        "reset us (max)", "healthz ms (p50)", "healthz ms (longest)", "broken"});
    json["busy_table"] = nlohmann::json::array();
    measure_busy_table(options, busy, json["busy_table"]);
    const std::string what = options.unrelated_unanswered ? "unanswered" : "answered";
    markdown << "\n## A busy table\n\n"
             << options.unrelated_entries << " " << what
             << " UDP entries of unrelated hosts in the node's table; " << options.cost_windows
             << " repairs of `nft flush chain`, 1 s apart; /healthz asked every millisecond "
                "throughout (its longest wait bounds the reactor's longest stall).\n\n"
             << busy.text();
    std::cout << "\n" << busy.text();
  }
  for (const auto& note : notes) markdown << "\n- " << note;
  markdown << "\n";
  write_result_file(options.results_dir / "broken_flows.md", markdown.str());
  write_result_file(options.results_dir / "broken_flows.json", json.dump(2) + "\n");
  return 0;
}

}  // namespace
}  // namespace fnft::bench

int main(int argc, char** argv) {
  fnft::bench::Options options;
  po::options_description description(
      "Usage: broken_flows [options]  (root: builds its own network namespaces)");
  // clang-format off
  description.add_options()
      ("windows", po::value(&options.windows)->default_value(20), "mutations per run")
      ("gap-ms", po::value(&options.gap_ms)->default_value(100), "between mutations")
      ("flows-per-second", po::value(&options.flows_per_second)->default_value(500),
       "new UDP flows from the pod")
      ("tail-ms", po::value(&options.tail_ms)->default_value(1500),
       "how long unanswered flows keep resending after the last mutation (iptables-legacy: "
       "plus --legacy-resync)")
      ("legacy-resync", po::value(&options.legacy_resync)->default_value(5),
       "the daemon's --iptables-resync in the iptables-legacy runs, seconds")
      ("unrelated-entries", po::value(&options.unrelated_entries)->default_value(0),
       "also measure the reset with this many unrelated conntrack entries in the table (the "
       "kernel's net.netfilter.nf_conntrack_max is global: raise it first, under a test "
       "kernel, never on a shared host)")
      ("unrelated-unanswered", po::bool_switch(&options.unrelated_unanswered),
       "those entries never saw a reply, so all of them pass the kernel's filter: the worst case")
      ("cost-windows", po::value(&options.cost_windows)->default_value(5),
       "repairs measured on the busy table")
      ("busy-table-only", po::bool_switch(&options.busy_table_only),
       "only the busy table (with --unrelated-entries)")
      ("only", po::value(&options.only)->multitoken(),
       "runs whose mode or mutation contains one of these words (e.g. legacy)")
      ("daemon", po::value(&options.daemon)->default_value(options.daemon), "flannel-nftd binary")
      ("results-dir", po::value(&options.results_dir)->default_value(options.results_dir),
       "where broken_flows.md and broken_flows.json go")
      ("help,h", "show this help");
  // clang-format on
  return fnft::bench::bench_main(argc, argv, description, "broken_flows",
                                 [&] { return fnft::bench::run(options); });
}
