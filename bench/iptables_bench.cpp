// bench/iptables: the iptables mode, flannel's default, against flanneld's own way of keeping
// the same rules, with the real tools on both sides, in one run:
//   - applying the rules to a node that lacks them: flanneld's bootstrap (its `iptables`
//     calls: chain listings, `-C` per rule, then one restore per family) against
//     flannel-nftd's (one save and one restore per family), for iptables-nft and legacy;
//   - repairing what the real `iptables-nft` / `iptables-legacy` does to the rules, measured
//     for iptables-nft from the mutator's commit to the daemon's (both seen as nf_tables
//     events) and for iptables-legacy, which has no events, until the daemon's log says it
//     repaired at its poll; flanneld polls every 5 s and never notices a foreign or
//     duplicated rule;
//   - what that costs the daemon: its own CPU and its tools' (reaped children), per repair
//     and, for iptables-legacy, for polling an unchanged node.
// Runs in a private network namespace; prints tables and writes bench/results/iptables.md
// and iptables.json. Not a test: it asserts nothing about the numbers.
//
// Over 400 lines: one program comparing two implementations of the same job phase by phase;
// splitting it would split each comparison from its counterpart.
#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "bench/bench_config.hpp"
#include "bench/bench_main.hpp"
#include "bench/generation_monitor.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "daemon/backends/iptables_backend.hpp"
#include "daemon/cli/run_to_completion.hpp"
#include "daemon/process/child_process.hpp"
#include "state/iptables_ruleset.hpp"
#include "testkit/network_namespace.hpp"
#include "testkit/tracked_process.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string daemon = FNFT_DAEMON_BINARY;
  int apply_iterations = 50;
  int repair_iterations = 100;
  int legacy_iterations = 10;
  double legacy_resync_seconds = 5;
  int idle_seconds = 30;
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

struct Backend {
  std::string id;  // "nft", "legacy"
  state::IptablesVariant which;
  std::string tool(state::Family family, const std::string& suffix = "") const {
    return (family == state::Family::ipv4 ? "iptables-" : "ip6tables-") + id + suffix;
  }
};

const std::vector<Backend> kBackends = {{"nft", state::IptablesVariant::nft},
                                        {"legacy", state::IptablesVariant::legacy}};

void run_checked(const std::vector<std::string>& argv, const std::string& input = {}) {
  const daemon::ChildResult result = daemon::run_child(argv, input);
  if (!result.ok()) throw std::runtime_error(result.describe(argv));
}

bool run_ok(const std::vector<std::string>& argv) {
  return daemon::run_child(argv, {}).ok();
}

// Without --noflush, iptables-restore empties the tables it names: the node before flannel.
void flush(const Backend& backend) {
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    run_checked({backend.tool(family, "-restore")}, "*nat\nCOMMIT\n*filter\nCOMMIT\n");
  }
}

state::IptablesRuleset ruleset(state::Family family) {
  const state::NodeConfig config = dual_stack_config();
  return state::desired_iptables_ruleset(
      family, family == state::Family::ipv4 ? *config.ipv4 : *config.ipv6, config.options);
}

// The commands flanneld's iptables mode runs to set its rules up (ipTablesBootstrap through
// go-iptables): per rule, the chain listing behind ChainExists for rules of its chains and
// `-C`, then one `iptables-restore --noflush` per family; its 5 s ensure loop runs the same
// checks, without the restore while everything is there.
void flanneld_checks(const Backend& backend) {
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    for (const auto& table : ruleset(family).tables) {
      for (const auto& rule : table.rules) {
        if (rule.chain.rfind("FLANNEL-", 0) == 0) {
          run_ok({backend.tool(family), "-t", table.name, "-S", rule.chain});
        }
        std::vector<std::string> check = {backend.tool(family), "-t", table.name, "-C", rule.chain};
        check.insert(check.end(), rule.args.begin(), rule.args.end());
        run_ok(check);
      }
    }
  }
}

void flanneld_bootstrap(const Backend& backend) {
  flanneld_checks(backend);
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    run_checked({backend.tool(family, "-restore"), "--noflush", "--wait"},
                state::to_iptables_restore(ruleset(family)));
  }
}

struct ApplyRow {
  std::string name;
  Summary summary;
};

std::vector<ApplyRow> measure_apply(const Options& options, std::vector<std::string>& notes) {
  boost::asio::io_context io;
  netlink::NfnlSocket socket;
  std::vector<ApplyRow> rows;
  for (const auto& backend : kBackends) {
    daemon::IptablesBackend ours(io, socket, {backend.which, std::chrono::seconds(5)});
    const state::NodeConfig config = dual_stack_config();
    const auto apply = [&] {
      const auto result = daemon::run_to_completion<daemon::BackendResult>(io, [&](auto done) {
        ours.apply(state::Target{config, {}}, {}, done);
      });
      if (result.error) throw std::runtime_error(*result.error);
      return result;
    };
    std::vector<double> flanneld_ms, ours_ms, reapply_ms, flanneld_poll_ms;
    flush(backend);
    apply();  // warm-up: the probe for --random-fully, the tools' pages
    for (int i = 0; i < options.apply_iterations; ++i) {
      flush(backend);
      auto begin = Clock::now();
      flanneld_bootstrap(backend);
      flanneld_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
      begin = Clock::now();
      flanneld_checks(backend);
      flanneld_poll_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
      flush(backend);
      begin = Clock::now();
      if (!apply().committed)
        throw std::runtime_error("apply from flushed tables committed nothing");
      ours_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
      begin = Clock::now();
      if (apply().committed) throw std::runtime_error("re-apply of an unchanged state committed");
      reapply_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
    }
    flush(backend);
    const std::string name = "iptables-" + backend.id;
    rows.push_back({"flanneld bootstrap, " + name, summarize(flanneld_ms)});
    rows.push_back({"flannel-nftd apply, " + name, summarize(ours_ms)});
    rows.push_back({"flanneld 5 s check round, " + name, summarize(flanneld_poll_ms)});
    rows.push_back({"flannel-nftd check (re-apply, unchanged), " + name, summarize(reapply_ms)});
  }
  notes.push_back(
      "flanneld bootstrap: its go-iptables calls per rule (`-S CHAIN` for ChainExists, `-C`), "
      "then `iptables-restore --noflush --wait` per family; its check round is the same calls "
      "without the restore. flannel-nftd: `iptables-save` per family, a pure plan, one "
      "`iptables-restore --noflush --wait` per family only when something differs.");
  return rows;
}

struct Mutation {
  std::string name;
  std::vector<std::string> args;  // after the tool
  bool flanneld_repairs;          // its `-C` checks notice the change
};

const std::vector<Mutation> kMutations = {
    {"flush-chain", {"-t", "nat", "-F", "FLANNEL-POSTRTG"}, true},
    {"delete-rule", {"-t", "nat", "-D", "FLANNEL-POSTRTG", "5"}, true},
    {"delete-jump",
     {"-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "flanneld masq", "-j",
      "FLANNEL-POSTRTG"},
     true},
    {"foreign-rule",
     {"-t", "filter", "-I", "FLANNEL-FWD", "1", "-s", "10.244.1.2", "-j", "DROP"},
     false},
    {"duplicate-rule",
     {"-t", "filter", "-A", "FLANNEL-FWD", "-s", "10.244.0.0/16", "-m", "comment", "--comment",
      "flanneld forward", "-j", "ACCEPT"},
     false},
};

struct RepairRow {
  std::string backend;
  std::string mutation;
  Summary latency_ms;
  int timeouts = 0;
  bool flanneld_repairs = false;
};

std::size_t repairs_in(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::size_t count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("repaired after") != std::string::npos) ++count;
  }
  return count;
}

bool wait_for_log(const std::filesystem::path& log, const std::string& needle,
                  std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

struct DaemonCost {
  std::string backend;
  int repairs = 0;
  double own_ms_per_repair = 0;
  double tools_ms_per_repair = 0;
  double idle_own_ms_per_minute = 0;
  double idle_tools_ms_per_minute = 0;
  std::uint64_t rss_kib = 0;
};

double ms_of(const testkit::CpuTime& a, const testkit::CpuTime& b) {
  return static_cast<double>((b.runtime - a.runtime).count()) / 1e6;
}
double tools_ms_of(const testkit::CpuTime& a, const testkit::CpuTime& b) {
  return static_cast<double>((b.children - a.children).count()) / 1e3;
}

void measure_repairs(const Options& options, const Backend& backend, const TempDir& dir,
                     std::vector<RepairRow>& rows, std::vector<DaemonCost>& costs) {
  flush(backend);
  const auto log = dir.path() / ("daemon-" + backend.id + ".log");
  const std::string resync = std::to_string(options.legacy_resync_seconds);
  testkit::TrackedProcess daemon(
      {options.daemon, "run", "--subnet-file=" + (dir.path() / "subnet.env").string(),
       "--net-config-path=" + (dir.path() / "net-conf.json").string(), "--mode=iptables",
       "--iptables-backend=" + backend.id, "--iptables-resync=" + resync, "--repair-burst=1000000",
       "--repair-rate=1000000", "--log-level=info"},
      log.string(), SIGTERM, testkit::OutputFile::append);
  if (!wait_for_log(log, "watching for changes", std::chrono::seconds(20))) {
    throw std::runtime_error("the daemon never became ready; its log: " + log.string());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const bool events = backend.which == state::IptablesVariant::nft;
  const int iterations = events ? options.repair_iterations : options.legacy_iterations;
  GenerationMonitor monitor;
  DaemonCost cost;
  cost.backend = "iptables-" + backend.id;
  const testkit::CpuTime before = daemon.cpu_time();
  // The poll runs on its own clock: a mutation at a random point of its period samples what
  // a change at any moment waits.
  std::mt19937 random(20261201);
  std::uniform_real_distribution<double> phase(0, options.legacy_resync_seconds);
  for (const auto& mutation : kMutations) {
    RepairRow row{cost.backend, mutation.name, {}, 0, mutation.flanneld_repairs};
    std::vector<double> latency;
    for (int i = 0; i < iterations; ++i) {
      std::vector<std::string> argv = {backend.tool(state::Family::ipv4)};
      argv.insert(argv.end(), mutation.args.begin(), mutation.args.end());
      if (!events) std::this_thread::sleep_for(std::chrono::duration<double>(phase(random)));
      const std::size_t repaired = repairs_in(log);
      monitor.drain([](const GenerationEvent&) {});
      daemon::ChildProcess tool(argv, {});
      const auto tool_pid = static_cast<std::uint32_t>(tool.pid());
      const daemon::ChildResult done = tool.wait();
      const auto tool_done = Clock::now();
      if (!done.ok()) throw std::runtime_error(done.describe(argv));
      const auto deadline = Clock::now() + std::chrono::seconds(events ? 5 : 15);
      if (events) {
        const auto foreign = monitor.wait_for(
            [&](const GenerationEvent& event) { return event.pid == tool_pid; }, deadline);
        const auto repair =
            foreign
                ? monitor.wait_for(
                      [&](const GenerationEvent& event) { return event.pid != tool_pid; }, deadline)
                : std::nullopt;
        if (!repair) {
          ++row.timeouts;
          continue;
        }
        latency.push_back(
            std::chrono::duration<double, std::milli>(repair->received - foreign->received)
                .count());
      } else {
        while (repairs_in(log) == repaired && Clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (repairs_in(log) == repaired) {
          ++row.timeouts;
          continue;
        }
        latency.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - tool_done).count());
      }
      ++cost.repairs;
      // Until the log says so, the repair's own events may still be on their way.
      while (repairs_in(log) == repaired && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    row.latency_ms = summarize(latency);
    rows.push_back(row);
  }
  const testkit::CpuTime after_repairs = daemon.cpu_time();
  cost.own_ms_per_repair = ms_of(before, after_repairs) / std::max(1, cost.repairs);
  cost.tools_ms_per_repair = tools_ms_of(before, after_repairs) / std::max(1, cost.repairs);
  std::this_thread::sleep_for(std::chrono::seconds(options.idle_seconds));
  const testkit::CpuTime after_idle = daemon.cpu_time();
  const double per_minute = 60.0 / options.idle_seconds;
  cost.idle_own_ms_per_minute = ms_of(after_repairs, after_idle) * per_minute;
  cost.idle_tools_ms_per_minute = tools_ms_of(after_repairs, after_idle) * per_minute;
  cost.rss_kib = daemon.memory().rss_kib;
  costs.push_back(cost);
  daemon.stop();
  flush(backend);
}

std::string ms(double value) {
  return fixed(value, value < 10 ? 2 : 1);
}

int run(const Options& options) {
  std::signal(SIGPIPE, SIG_IGN);
  const MachineInfo machine = machine_info();
  testkit::enter_private_network_namespace();
  TempDir dir("fnft-bench-iptables-");
  dir.write("subnet.env", dual_stack_subnet_env());
  dir.write("net-conf.json", dual_stack_net_conf_json());

  std::vector<std::string> notes;
  std::cout << "bench/iptables: apply, " << options.apply_iterations << " iterations per method\n";
  const auto apply_rows = measure_apply(options, notes);
  std::vector<RepairRow> repair_rows;
  std::vector<DaemonCost> costs;
  for (const auto& backend : kBackends) {
    std::cout << "bench/iptables: repairs, iptables-" << backend.id << "\n";
    measure_repairs(options, backend, dir, repair_rows, costs);
  }

  MarkdownTable apply({"method (dual-stack, both tables)", "median ms", "p90 ms", "min ms"});
  for (const auto& row : apply_rows) {
    apply.add_row({row.name, ms(row.summary.median), ms(row.summary.p90), ms(row.summary.min)});
  }
  MarkdownTable repair({"backend", "mutation (real tool)", "repairs", "p50 ms", "p99 ms", "max ms",
                        "timeouts", "flanneld"});
  nlohmann::json json;
  json["machine"] = {{"date", machine.date},
                     {"cpus", machine.cpus},
                     {"kernel", machine.kernel},
                     {"cpu_model", machine.cpu_model},
                     {"loadavg_start", machine.load}};
  for (const auto& row : apply_rows) {
    json["apply"].push_back({{"name", row.name},
                             {"median_ms", row.summary.median},
                             {"p90_ms", row.summary.p90},
                             {"min_ms", row.summary.min}});
  }
  for (const auto& row : repair_rows) {
    repair.add_row({row.backend, row.mutation, std::to_string(row.latency_ms.count),
                    ms(row.latency_ms.median), ms(row.latency_ms.p99), ms(row.latency_ms.max),
                    std::to_string(row.timeouts),
                    row.flanneld_repairs ? "at its next 5 s check" : "never"});
    json["repair"].push_back({{"backend", row.backend},
                              {"mutation", row.mutation},
                              {"count", row.latency_ms.count},
                              {"p50_ms", row.latency_ms.median},
                              {"p99_ms", row.latency_ms.p99},
                              {"max_ms", row.latency_ms.max},
                              {"timeouts", row.timeouts},
                              {"flanneld_repairs", row.flanneld_repairs}});
  }
  MarkdownTable cost({"backend", "repairs", "daemon CPU ms/repair", "tools CPU ms/repair",
                      "idle daemon CPU ms/min", "idle tools CPU ms/min", "RSS KiB"});
  for (const auto& c : costs) {
    cost.add_row({c.backend, std::to_string(c.repairs), ms(c.own_ms_per_repair),
                  ms(c.tools_ms_per_repair), ms(c.idle_own_ms_per_minute),
                  ms(c.idle_tools_ms_per_minute), std::to_string(c.rss_kib)});
    json["cost"].push_back({{"backend", c.backend},
                            {"repairs", c.repairs},
                            {"daemon_ms_per_repair", c.own_ms_per_repair},
                            {"tools_ms_per_repair", c.tools_ms_per_repair},
                            {"idle_daemon_ms_per_minute", c.idle_own_ms_per_minute},
                            {"idle_tools_ms_per_minute", c.idle_tools_ms_per_minute},
                            {"rss_kib", c.rss_kib}});
  }
  notes.push_back(
      "repair latency, iptables-nft: from the mutating tool's commit to the daemon's restore "
      "commit, both as NEWGEN events on a monitor socket. iptables-legacy: from the tool's exit "
      "until the daemon's log says it repaired, at its poll every " +
      fixed(options.legacy_resync_seconds, 1) +
      " s (flanneld's period). Tools' CPU: the daemon's reaped children (cutime+cstime, 10 ms "
      "ticks); idle: " +
      std::to_string(options.idle_seconds) + " s without any change.");
  notes.push_back(
      "flanneld: its ensure loop runs every 5 s and `-C` checks each of its rules: a deleted "
      "rule or jump is put back at the next check (with a full delete and re-append of all of "
      "them), a foreign rule inserted into its chains or a duplicate is never noticed "
      "(flannel#1337), and order is never checked.");

  std::ostringstream markdown;
  markdown << "# bench/iptables\n\n"
           << describe(machine) << "\n## Apply\n\n"
           << apply.text() << "\n## Repair\n\n"
           << repair.text() << "\n## Cost\n\n"
           << cost.text() << "\n";
  for (const auto& note : notes) markdown << "- " << note << "\n";
  std::cout << "\n" << apply.text() << "\n" << repair.text() << "\n" << cost.text() << "\n";
  write_result_file(options.results_dir / "iptables.md", markdown.str());
  write_result_file(options.results_dir / "iptables.json", json.dump(2) + "\n");
  return 0;
}

}  // namespace
}  // namespace fnft::bench

int main(int argc, char** argv) {
  fnft::bench::Options options;
  po::options_description description(
      "Usage: iptables [options]  (root: runs in a private network namespace)");
  // clang-format off
  description.add_options()
      ("apply-iterations", po::value(&options.apply_iterations)->default_value(50), "timed applies per method")
      ("repair-iterations", po::value(&options.repair_iterations)->default_value(100),
       "repairs per mutation, iptables-nft")
      ("legacy-iterations", po::value(&options.legacy_iterations)->default_value(10),
       "repairs per mutation, iptables-legacy (each waits for the poll)")
      ("legacy-resync", po::value(&options.legacy_resync_seconds)->default_value(5),
       "the daemon's --iptables-resync")
      ("idle-seconds", po::value(&options.idle_seconds)->default_value(30),
       "how long the idle cost is measured")
      ("daemon", po::value(&options.daemon)->default_value(options.daemon), "flannel-nftd binary")
      ("results-dir", po::value(&options.results_dir)->default_value(options.results_dir),
       "where iptables.md and iptables.json go")
      ("help,h", "show this help");
  // clang-format on
  return fnft::bench::bench_main(argc, argv, description, "iptables_bench",
                                 [&] { return fnft::bench::run(options); });
}
