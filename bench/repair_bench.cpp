// bench/repair: how fast the real flannel-nftd undoes another process's change to its
// tables, what foreign commits that do not concern it cost it, and how much memory it holds.
//
// The benchmark enters a private network namespace, starts `flannel-nftd run` there (the
// daemon inherits the namespace), and plays the other processes itself on a netlink socket
// of its own. Prints tables and writes bench/results/repair.md and repair.json.
// Not a test: it asserts nothing about the numbers.
//
// Over 400 lines: the program's options, its phases in order and their hand-off to the report;
// each phase's work is in its own file (repair_latency, churn, nft_tool_rounds, repair_report).
#include <sys/resource.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_config.hpp"
#include "bench/bench_main.hpp"
#include "bench/churn.hpp"
#include "bench/generation_monitor.hpp"
#include "bench/metrics_scraper.hpp"
#include "bench/mutations.hpp"
#include "bench/nft_tool_mutations.hpp"
#include "bench/nft_tool_rounds.hpp"
#include "bench/repair_context.hpp"
#include "bench/repair_latency.hpp"
#include "bench/repair_report.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "daemon/process/child_process.hpp"
#include "netlink/nft_probe.hpp"
#include "netlink/nft_table_sync.hpp"
#include "state/config_parse.hpp"
#include "state/desired_ruleset.hpp"
#include "state/nft_text.hpp"
#include "testkit/daemon_log.hpp"
#include "testkit/network_namespace.hpp"
#include "testkit/tracked_process.hpp"

namespace po = boost::program_options;

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Where the daemon serves /metrics with its defaults (the benchmark's namespace has lo up).
constexpr const char* kMetricsAddress = "127.0.0.1";
constexpr std::uint16_t kMetricsPort = 9478;

// A budget no benchmark run exhausts, so every repair is measured unthrottled.
constexpr const char* kUnlimitedBurst = "--repair-burst=1000000";
constexpr const char* kUnlimitedRate = "--repair-rate=1000000";
// Without those options: 5 repairs per second refill the budget, so one mutation per 210 ms
// never drains it (the 20-repair burst is never even touched).
constexpr std::chrono::milliseconds kBudgetPace{210};

struct Options {
  std::string daemon = FNFT_DAEMON_BINARY;
  int iterations = 1000;
  int pace_ms = -1;  // -1: decided by what the daemon supports
  int gap_ms = 2;
  int timeout_ms = 2000;
  int churn_transactions = 10000;
  int churn_gap_us = 1000;
  int reference_iterations = 200;
  int scrape_iterations = 300;
  int tool_iterations = 200;
  int nice = 0;
  std::string daemon_log_level = "warn";
  bool default_budget = false;
  std::vector<std::string> only;
  std::filesystem::path results_dir = FNFT_BENCH_RESULTS_DIR;
};

// Whether this build of the daemon's `run` has every option of `names`.
bool daemon_has_options(const std::string& daemon, const std::vector<std::string>& names) {
  const daemon::ChildResult help = daemon::run_child({daemon, "run", "--help"}, {});
  return help.ok() && std::all_of(names.begin(), names.end(), [&](const std::string& name) {
           return help.out.find(name) != std::string::npos;
         });
}

// The repair budget options, if this build of the daemon has them.
bool daemon_has_budget_options(const std::string& daemon) {
  return daemon_has_options(daemon, {"--repair-burst", "--repair-rate"});
}

// Every mutation by the real `nft`, `tool_iterations` rounds each.
std::vector<NftToolSamples> measure_nft_tools(const RepairContext& context,
                                              testkit::TrackedProcess& daemon,
                                              RepairSettings settings, int iterations,
                                              bool protect) {
  settings.iterations = iterations;
  std::vector<NftToolSamples> phases;
  for (const auto& mutation : nft_tool_mutations(context.desired)) {
    const auto start = Clock::now();
    phases.push_back(measure_nft_tool(context, mutation, daemon, settings, protect));
    const auto& phase = phases.back();
    std::cout << "  nft " << mutation.name << (protect ? " (--protect=on): " : ": ");
    if (protect) {
      std::cout << phase.refused << " refused, " << phase.skipped << " skipped, "
                << phase.rules_missing << " changed our rules";
    } else {
      const Summary summary = summarize(phase.latency_us);
      std::cout << "p50 " << fixed(summary.median, 0) << " us, p99 " << fixed(summary.p99, 0)
                << " us, lost the race " << phase.lost_race << "/" << summary.count;
    }
    std::cout << " (" << fixed(std::chrono::duration<double>(Clock::now() - start).count(), 1)
              << " s)\n";
  }
  return phases;
}

// The node's files must say exactly what the in-code configuration says, or the daemon
// would keep a different ruleset from the one the benchmark checks against.
void check_files_match(const std::string& subnet_env, const std::string& net_conf) {
  const state::NodeConfig parsed = state::resolve_node_config(
      state::parse_subnet_env(subnet_env, "subnet.env"), "subnet.env",
      state::parse_net_conf(net_conf, "net-conf.json"), "net-conf.json", state::RuleOptions{});
  if (!(parsed == dual_stack_config())) {
    throw std::logic_error("the benchmark's subnet.env/net-conf.json disagree with its config");
  }
}

std::string us(double value) {
  return fixed(value, 0);
}

std::string tail_of_log(const std::filesystem::path& log, std::size_t max_lines) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string text;
  const std::size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (std::size_t i = first; i < lines.size(); ++i) text += "  " + lines[i] + "\n";
  return text;
}

std::size_t count_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  return count;
}

// Threads and children inherit the nice value of the thread that creates them, so setting
// it first puts the daemon, the monitor and `nft` on an equal footing.
void set_nice(int nice) {
  if (nice == 0) return;
  if (::setpriority(PRIO_PROCESS, 0, nice) != 0) {
    throw std::runtime_error("--nice " + std::to_string(nice) + ": " + std::strerror(errno));
  }
}

// Starts the daemon and waits for its first commit.
std::unique_ptr<testkit::TrackedProcess> start_daemon(const Options& options,
                                                      const std::vector<std::string>& args,
                                                      const std::filesystem::path& log_file,
                                                      GenerationMonitor& monitor) {
  std::vector<std::string> argv{options.daemon};
  argv.insert(argv.end(), args.begin(), args.end());
  auto daemon = std::make_unique<testkit::TrackedProcess>(std::move(argv), log_file.string(),
                                                          SIGTERM, testkit::OutputFile::append);
  const auto daemon_pid = static_cast<std::uint32_t>(daemon->pid());
  const auto first =
      monitor.wait_for([&](const GenerationEvent& event) { return event.pid == daemon_pid; },
                       Clock::now() + std::chrono::seconds(10));
  if (!first || !daemon->running()) {
    throw std::runtime_error(
        "flannel-nftd did not apply its tables within 10 s (" +
        (daemon->running() ? std::string("still running") : daemon->exit_status()) +
        "); its log:\n" + tail_of_log(log_file, 20));
  }
  return daemon;
}

int run(const Options& options) {
  std::signal(SIGPIPE, SIG_IGN);  // a child may die of it; we must not
  set_nice(options.nice);
  const MachineInfo machine = machine_info();
  const bool unlimited_budget =
      !options.default_budget && daemon_has_budget_options(options.daemon);
  RepairSettings settings;
  settings.iterations = options.iterations;
  settings.gap = std::chrono::milliseconds(options.gap_ms);
  settings.timeout = std::chrono::milliseconds(options.timeout_ms);
  settings.pace = options.pace_ms >= 0 ? std::chrono::milliseconds(options.pace_ms)
                  : unlimited_budget   ? std::chrono::milliseconds(0)
                                       : kBudgetPace;

  testkit::enter_private_network_namespace();
  TempDir files("fnft-bench-repair-");
  const std::string subnet_env = dual_stack_subnet_env();
  const std::string net_conf = dual_stack_net_conf_json();
  check_files_match(subnet_env, net_conf);
  const auto subnet_file = files.write("subnet.env", subnet_env);
  const auto net_conf_file = files.write("net-conf.json", net_conf);
  const auto log_file = files.path() / "flannel-nftd.log";

  const state::Ruleset desired = state::desired_nft_ruleset(dual_stack_config());
  std::vector<Mutation> mutations;
  for (auto& mutation : flannel_mutations(desired)) {
    if (options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), mutation.name) != options.only.end()) {
      mutations.push_back(std::move(mutation));
    }
  }
  if (mutations.size() !=
      (options.only.empty() ? flannel_mutations(desired).size() : options.only.size())) {
    throw std::invalid_argument("--only: unknown mutation type among the names given");
  }

  // The monitor subscribes before the daemon starts, so it sees the daemon's first commit.
  GenerationMonitor monitor;
  netlink::NfnlSocket command;
  const RepairContext context{command, monitor, desired,
                              netlink::NftTableSync::default_owned_tables()};

  std::vector<std::string> daemon_args{"run",
                                       "--mode=nftables",
                                       "--subnet-file",
                                       subnet_file.string(),
                                       "--net-config-path",
                                       net_conf_file.string(),
                                       "--log-level",
                                       options.daemon_log_level};
  if (unlimited_budget) {
    daemon_args.push_back(kUnlimitedBurst);
    daemon_args.push_back(kUnlimitedRate);
  }
  // The repair loop is what is measured first; --protect (which leaves it nothing to do) after.
  const bool has_protect = daemon_has_options(options.daemon, {"--protect"});
  if (has_protect) daemon_args.push_back("--protect=off");
  std::string daemon_command = options.daemon;
  for (const auto& arg : daemon_args) daemon_command += " " + arg;
  std::cout << "bench/repair: " << daemon_command << "\n"
            << "  " << mutations.size() << " mutation types x " << settings.iterations
            << " iterations, pace " << settings.pace.count() << " ms, gap " << settings.gap.count()
            << " ms"
            << (unlimited_budget ? ""
                                 : " (the daemon's repair budget is at its defaults: pacing "
                                   "keeps it from throttling)")
            << "\n";

  const auto started_daemon = start_daemon(options, daemon_args, log_file, monitor);
  testkit::TrackedProcess& daemon = *started_daemon;

  std::vector<RepairSamples> results;
  std::vector<std::vector<double>> daemon_micros;  // per mutation, from its log at info
  const auto started = Clock::now();
  for (const auto& mutation : mutations) {
    const auto phase_start = Clock::now();
    const auto log_start = testkit::log_size(log_file);
    results.push_back(measure_repairs(context, mutation, daemon, settings));
    daemon_micros.push_back(testkit::repair_commit_micros(log_file, log_start));
    const Summary summary = summarize(results.back().latency_us);
    std::cout << "  " << mutation.name << ": p50 " << us(summary.median) << " us, p99 "
              << us(summary.p99) << " us, " << results.back().timeouts << " timeouts ("
              << fixed(std::chrono::duration<double>(Clock::now() - phase_start).count(), 1)
              << " s)\n";
  }
  // The first mutation again, with /metrics fetched back to back all the while: what a
  // scrape costs the repair path.
  if (options.scrape_iterations > 0) {
    RepairSettings scraped = settings;
    scraped.iterations = options.scrape_iterations;
    const auto log_start = testkit::log_size(log_file);
    MetricsScraper scraper(kMetricsAddress, kMetricsPort);
    RepairSamples samples = measure_repairs(context, mutations.front(), daemon, scraped);
    const long failed = scraper.failed();
    const double per_second = scraper.stop();
    samples.name = mutations.front().name + ", /metrics scraped " + fixed(per_second, 0) + "/s";
    if (failed > 0) samples.name += " (" + std::to_string(failed) + " scrapes failed)";
    const Summary summary = summarize(samples.latency_us);
    std::cout << "  " << samples.name << ": p50 " << us(summary.median) << " us, p90 "
              << us(summary.p90) << " us, p99 " << us(summary.p99) << " us\n";
    results.push_back(std::move(samples));
    daemon_micros.push_back(testkit::repair_commit_micros(log_file, log_start));
  }
  std::vector<NftToolSamples> tool_phases;
  if (options.tool_iterations > 0) {
    tool_phases = measure_nft_tools(context, daemon, settings, options.tool_iterations, false);
  }
  const double repair_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  std::vector<ChurnResult> churn;
  churn.push_back(measure_idle(daemon, std::chrono::milliseconds(2000)));
  if (options.churn_transactions > 0) {
    churn.push_back(run_churn(context, daemon, "back-to-back", options.churn_transactions,
                              std::chrono::microseconds(0)));
    churn.push_back(run_churn(context, daemon, "paced", options.churn_transactions,
                              std::chrono::microseconds(options.churn_gap_us)));
  }
  const testkit::Memory memory = daemon.memory();
  const std::string daemon_exit = daemon.stop();

  RepairSettings reference_settings = settings;
  reference_settings.iterations = options.reference_iterations;
  // What a knftables-based agent would send to restore the table the mutation deleted.
  state::Ruleset ipv4_only;
  ipv4_only.tables.push_back(*desired.find_table(state::Family::ipv4, state::kIpv4TableName));
  const std::string restore_text = "add table ip " + ipv4_only.tables.front().name +
                                   "\nflush table ip " + ipv4_only.tables.front().name + "\n" +
                                   state::to_nft_text(ipv4_only);
  if (options.reference_iterations > 0) {
    results.push_back(measure_nft_reference(context, restore_text, reference_settings));
  }

  // The same mutations against a daemon that holds its tables with `flags owner, persist`
  // (last: the tables it leaves are orphans, which nothing before expects).
  std::string protect_note;
  if (options.tool_iterations > 0 && has_protect) {
    if (const auto refused = netlink::table_protection_refused(command)) {
      protect_note = "--protect: not measured, this kernel lacks it (" + *refused + ")";
    } else {
      std::vector<std::string> protect_args = daemon_args;
      protect_args.back() = "--protect=on";
      const auto protected_daemon =
          start_daemon(options, protect_args, files.path() / "flannel-nftd-protect.log", monitor);
      auto phases =
          measure_nft_tools(context, *protected_daemon, settings, options.tool_iterations, true);
      tool_phases.insert(tool_phases.end(), phases.begin(), phases.end());
      protected_daemon->stop();
    }
  }
  const std::size_t log_lines = count_lines(log_file);
  const std::vector<std::string> complaints = testkit::warnings_and_errors(log_file);

  RepairRun outcome;
  outcome.machine = machine;
  outcome.load_at_end = machine_info().load;
  outcome.daemon_command = daemon_command;
  outcome.settings = settings;
  outcome.reference_iterations = reference_settings.iterations;
  outcome.nice = options.nice;
  outcome.daemon_log_level = options.daemon_log_level;
  outcome.unlimited_budget = unlimited_budget;
  outcome.repair_seconds = repair_seconds;
  outcome.latency = std::move(results);
  outcome.daemon_micros = std::move(daemon_micros);
  outcome.cpu = std::move(churn);
  outcome.memory = memory;
  outcome.monitor_overruns = monitor.overruns();
  outcome.daemon_exit = daemon_exit;
  outcome.log_lines = log_lines;
  outcome.complaints = complaints;
  RepairReport report = make_report(outcome);
  if (!tool_phases.empty() || !protect_note.empty()) {
    const std::string table = tool_phases.empty() ? "" : nft_tool_table(tool_phases);
    const std::string explained =
        "Mutations by the real `nft` (`nft -f -`, one process per mutation); latency from its "
        "NEWGEN to the daemon's on the monitor socket; \"lost the race\": later than " +
        fixed(kLostRaceMicros / 1000, 0) +
        " ms (the daemon's batch waited behind nft's close() for an RCU grace period). With "
        "--protect: the kernel refused the change (EPERM) or skipped our tables (`flush "
        "ruleset`), and the dump right after nft exited shows whether our rules changed.\n";
    report.terminal += "\n" + table + (protect_note.empty() ? "" : protect_note + "\n");
    report.markdown += "\n## Repairs against the real nft, with and without --protect\n\n" +
                       explained + "\n" + table +
                       (protect_note.empty() ? "" : "\n" + protect_note + "\n");
    nlohmann::json json = nlohmann::json::parse(report.json);
    json["real_nft"] = nft_tool_json(tool_phases);
    if (!protect_note.empty()) json["protect_note"] = protect_note;
    report.json = json.dump(2);
  }
  std::cout << "\n" << report.terminal;
  for (std::size_t i = 0; i < complaints.size() && i < 10; ++i) {
    std::cout << (i == 0 ? "the daemon complained:\n" : "") << "  " << complaints[i] << "\n";
  }
  write_result_file(options.results_dir / "repair.md", report.markdown);
  write_result_file(options.results_dir / "repair.json", report.json);
  return 0;
}

}  // namespace
}  // namespace fnft::bench

int main(int argc, char** argv) {
  fnft::bench::Options options;
  po::options_description description(
      "Usage: repair_bench [options]  (root: runs in a private network namespace)");
  description.add_options()("daemon", po::value(&options.daemon)->default_value(options.daemon),
                            "the flannel-nftd binary")(
      "iterations", po::value(&options.iterations)->default_value(options.iterations),
      "mutations per mutation type")(
      "pace-ms", po::value(&options.pace_ms)->default_value(options.pace_ms),
      "minimum time between mutations; -1: 0 if the daemon takes --repair-burst/--repair-rate, "
      "else 210 (its default budget refills 5 repairs per second)")(
      "gap-ms", po::value(&options.gap_ms)->default_value(options.gap_ms),
      "quiet time after each verified repair")(
      "timeout-ms", po::value(&options.timeout_ms)->default_value(options.timeout_ms),
      "a repair slower than this counts as a timeout")(
      "churn-transactions",
      po::value(&options.churn_transactions)->default_value(options.churn_transactions),
      "commits to table ip bench-churn per churn phase")(
      "churn-gap-us", po::value(&options.churn_gap_us)->default_value(options.churn_gap_us),
      "time between commits in the paced churn phase")(
      "scrape-iterations",
      po::value(&options.scrape_iterations)->default_value(options.scrape_iterations),
      "repairs of the first mutation type measured again while /metrics is fetched back to "
      "back (0: skip)")(
      "reference-iterations",
      po::value(&options.reference_iterations)->default_value(options.reference_iterations),
      "`nft -f` restores measured for reference (0: skip)")(
      "tool-iterations",
      po::value(&options.tool_iterations)->default_value(options.tool_iterations),
      "rounds per mutation by the real `nft`, with --protect off and (where the kernel has "
      "it) on (0: skip)")(
      "default-budget", po::bool_switch(&options.default_budget),
      "leave the daemon's repair budget at its defaults (then --pace-ms -1 means 210)")(
      "daemon-log-level",
      po::value(&options.daemon_log_level)->default_value(options.daemon_log_level),
      "the daemon's --log-level; at info its \"committed in X us\" lines fill the "
      "daemon's-own column")(
      "nice", po::value(&options.nice)->default_value(options.nice),
      "nice value for the benchmark, the daemon and nft (e.g. -10 on a busy shared machine; "
      "0: unchanged)")(
      "only", po::value(&options.only)->multitoken(),
      "only these mutation types (delete-rule flush-chain delete-chain delete-table "
      "foreign-rule policy-drop duplicate-rule)")(
      "results-dir", po::value(&options.results_dir)->default_value(options.results_dir),
      "where repair.md and repair.json go")("help,h", "show this help");
  return fnft::bench::bench_main(argc, argv, description, "repair_bench", [&] {
    if (options.iterations < 1) throw std::invalid_argument("--iterations must be at least 1");
    if (options.churn_transactions < 0 || options.reference_iterations < 0 ||
        options.tool_iterations < 0 || options.scrape_iterations < 0 || options.gap_ms < 0 ||
        options.timeout_ms < 1 || options.churn_gap_us < 0) {
      throw std::invalid_argument("counts and times must not be negative");
    }
    return fnft::bench::run(options);
  });
}
