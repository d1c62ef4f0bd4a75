#include "bench/repair_report.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/stats.hpp"

namespace fnft::bench {
namespace {

std::string us(double value) {
  return fixed(value, 0);
}

std::string pair(const Summary& summary) {
  return summary.count == 0 ? "-" : us(summary.median) + " / " + us(summary.p99);
}

nlohmann::json to_json(const Summary& summary) {
  return {{"n", summary.count}, {"p50", summary.median}, {"p90", summary.p90},
          {"p99", summary.p99}, {"min", summary.min},    {"max", summary.max}};
}

double per_thousand(double total, int transactions) {
  return transactions > 0 ? total / transactions * 1000.0 : 0.0;
}

}  // namespace

RepairReport make_report(const RepairRun& run) {
  nlohmann::json json;
  json["machine"] = {{"date", run.machine.date},           {"cpus", run.machine.cpus},
                     {"cpu_model", run.machine.cpu_model}, {"kernel", run.machine.kernel},
                     {"loadavg_start", run.machine.load},  {"loadavg_end", run.load_at_end}};
  json["daemon_command"] = run.daemon_command;
  json["settings"] = {{"iterations", run.settings.iterations},
                      {"reference_iterations", run.reference_iterations},
                      {"pace_ms", run.settings.pace.count()},
                      {"gap_ms", run.settings.gap.count()},
                      {"timeout_ms", run.settings.timeout.count()},
                      {"nice", run.nice},
                      {"daemon_log_level", run.daemon_log_level},
                      {"unlimited_budget", run.unlimited_budget}};

  MarkdownTable latency({"mutation", "n", "p50 us", "p90 us", "p99 us", "max us",
                         "from send p50/p99 us", "daemon's own p50/p99 us", "timeouts",
                         "not restored"});
  int extra = 0;
  int stray = 0;
  for (std::size_t index = 0; index < run.latency.size(); ++index) {
    const RepairSamples& samples = run.latency[index];
    const Summary summary = summarize(samples.latency_us);
    const Summary own = summarize(index < run.daemon_micros.size() ? run.daemon_micros[index]
                                                                   : std::vector<double>{});
    const Summary from_send = summarize(samples.from_send_us);
    latency.add_row({samples.name, std::to_string(summary.count), us(summary.median),
                     us(summary.p90), us(summary.p99), us(summary.max), pair(from_send), pair(own),
                     std::to_string(samples.timeouts), std::to_string(samples.not_restored)});
    json["latency"].push_back({{"mutation", samples.name},
                               {"change", samples.nft_command},
                               {"monitor_to_monitor_us", to_json(summary)},
                               {"from_send_us", to_json(from_send)},
                               {"from_ack_us", to_json(summarize(samples.from_ack_us))},
                               {"monitor_lag_us", to_json(summarize(samples.monitor_lag_us))},
                               {"daemon_logged_commit_us", to_json(own)},
                               {"timeouts", samples.timeouts},
                               {"not_restored", samples.not_restored},
                               {"extra_repairer_commits", samples.extra_repairer_commits},
                               {"stray_commits", samples.stray_commits}});
    extra += samples.extra_repairer_commits;
    stray += samples.stray_commits;
  }

  MarkdownTable cpu({"phase", "transactions", "wall s", "daemon CPU ms (schedstat)",
                     "per 1000 tx, ms", "utime+stime ms", "daemon commits", "lost"});
  for (const auto& phase : run.cpu) {
    const double runtime_ms =
        static_cast<double>((phase.after.runtime - phase.before.runtime).count()) / 1e6;
    const double ticks_ms =
        static_cast<double>(
            (phase.after.user_plus_system - phase.before.user_plus_system).count()) /
        1000.0;
    const std::string name =
        phase.gap.count() == 0
            ? phase.name
            : phase.name + " (" + std::to_string(phase.gap.count()) + " us apart)";
    const std::string thousand =
        phase.transactions > 0 ? fixed(per_thousand(runtime_ms, phase.transactions), 2) : "-";
    cpu.add_row({name, std::to_string(phase.transactions), fixed(phase.wall_seconds, 2),
                 fixed(runtime_ms, 1), thousand, fixed(ticks_ms, 0),
                 std::to_string(phase.daemon_commits), std::to_string(phase.lost_commits)});
    json["cpu"].push_back({{"phase", name},
                           {"transactions", phase.transactions},
                           {"wall_seconds", phase.wall_seconds},
                           {"runtime_ms", runtime_ms},
                           {"runtime_ms_per_1000", per_thousand(runtime_ms, phase.transactions)},
                           {"utime_stime_ms", ticks_ms},
                           {"daemon_commits", phase.daemon_commits},
                           {"lost_commits", phase.lost_commits}});
  }
  json["memory_kib"] = {{"VmRSS", run.memory.rss_kib}, {"VmHWM", run.memory.hwm_kib}};
  json["monitor_overruns"] = run.monitor_overruns;
  json["extra_daemon_commits"] = extra;
  json["stray_commits"] = stray;
  json["repair_seconds"] = run.repair_seconds;
  json["daemon_exit"] = run.daemon_exit;
  json["daemon_log_lines"] = run.log_lines;
  json["daemon_warnings_and_errors"] = run.complaints;

  std::ostringstream summary;
  summary << "- repair phase: " << fixed(run.repair_seconds, 1)
          << " s; commits by the repairer beyond one per mutation: " << extra
          << "; commits by anyone else: " << stray << "; monitor overruns: " << run.monitor_overruns
          << "\n"
          << "- daemon memory after the run: VmRSS " << run.memory.rss_kib << " KiB, VmHWM "
          << run.memory.hwm_kib << " KiB\n"
          << "- /proc/loadavg at the end: " << run.load_at_end << "\n"
          << "- daemon on SIGTERM: " << run.daemon_exit << "; log lines at --log-level "
          << run.daemon_log_level << ": " << run.log_lines
          << ", of them warnings or errors: " << run.complaints.size() << "\n";

  std::ostringstream markdown;
  markdown << "# bench/repair\n\n"
           << describe(run.machine) << "- daemon: `" << run.daemon_command << "`\n"
           << "- " << run.settings.iterations << " iterations per mutation, pace "
           << run.settings.pace.count() << " ms, gap " << run.settings.gap.count()
           << " ms, timeout " << run.settings.timeout.count()
           << " ms; reference: " << run.reference_iterations << " iterations; nice " << run.nice
           << "\n\n"
           << "## Repair latency (foreign NEWGEN -> repair NEWGEN, monitor socket)\n\n"
           << latency.text() << "\n";
  for (const auto& samples : run.latency) {
    markdown << "- " << samples.name << ": `" << samples.nft_command << "`\n";
  }
  markdown << "\n## Daemon CPU for commits to another table\n\n"
           << cpu.text() << "\n"
           << summary.str();

  RepairReport report;
  report.terminal = latency.text() + "\n" + cpu.text() + "\n" + summary.str();
  report.markdown = markdown.str();
  report.json = json.dump(2) + "\n";
  return report;
}

}  // namespace fnft::bench
