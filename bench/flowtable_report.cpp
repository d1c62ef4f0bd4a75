#include "bench/flowtable_report.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/stats.hpp"
#include "state/fast_path.hpp"

namespace fnft::bench {
namespace {

double median(const MetricSamples& metric, Setup setup) {
  const auto found = metric.samples.find(setup);
  return found == metric.samples.end() ? 0.0 : summarize(found->second).median;
}

std::string device_list(const std::vector<std::string>& devices) {
  std::string list;
  for (const auto& device : devices) list += (list.empty() ? "" : ", ") + device;
  return list;
}

MarkdownTable setups_table(const FlowtableRun& run, nlohmann::json& json) {
  std::vector<std::string> header = {"setup"};
  for (const auto& metric : run.metrics) header.push_back(metric.name);
  MarkdownTable table(header);
  for (const Setup setup : kSetups) {
    std::vector<std::string> row = {name_of(setup)};
    for (const auto& metric : run.metrics) {
      row.push_back(fixed(median(metric, setup) / metric.scale, 0));
      if (metric.samples.count(setup) != 0)
        json["setups"][name_of(setup)][metric.key] = metric.samples.at(setup);
    }
    table.add_row(row);
  }
  return table;
}

MarkdownTable ratios_table(const FlowtableRun& run, nlohmann::json& json) {
  std::vector<std::string> header = {"ratio of medians"};
  for (const auto& metric : run.metrics) header.push_back(metric.name);
  MarkdownTable ratios(header);
  for (const auto& [with, without] : {std::pair{Setup::daemon_fast_path, Setup::daemon},
                                      std::pair{Setup::bare_flowtable, Setup::no_rules}}) {
    std::vector<std::string> row = {name_of(with) + " / " + name_of(without)};
    for (const auto& metric : run.metrics) {
      const double ratio = median(metric, with) / median(metric, without);
      row.push_back(fixed(ratio, 2) + "x");
      json["ratios"][name_of(with) + " / " + name_of(without)][metric.key] = ratio;
    }
    ratios.add_row(row);
  }
  return ratios;
}

MarkdownTable burst_table(const FlowtableRun& run, nlohmann::json& json) {
  MarkdownTable burst({"burst", "link events", "burst took (ms)", "daemon commits",
                       "last commit after last link event (ms)", "flowtable devices after",
                       "errors in the daemon's log"});
  for (const auto& result : run.bursts) {
    burst.add_row({result.phase, std::to_string(result.link_events), fixed(result.burst_ms, 0),
                   std::to_string(result.commits),
                   result.commits == 0 || result.last_commit_after_last_event_ms < 0
                       ? "(none needed: " + fixed(-result.last_commit_after_last_event_ms, 0) +
                             " ms before; the kernel unbinds deleted devices itself)"
                       : fixed(result.last_commit_after_last_event_ms, 1),
                   std::to_string(result.flowtable_devices), std::to_string(result.errors)});
    json["bursts"].push_back(
        {{"phase", result.phase},
         {"link_events", result.link_events},
         {"burst_ms", result.burst_ms},
         {"commits", result.commits},
         {"last_commit_after_last_event_ms", result.last_commit_after_last_event_ms},
         {"flowtable_devices", result.flowtable_devices},
         {"errors", result.errors},
         {"error_lines", result.error_lines},
         {"monitor_overruns", result.monitor_overruns}});
  }
  return burst;
}

}  // namespace

void report_flowtable_run(const FlowtableRun& run, const std::filesystem::path& results_dir) {
  nlohmann::json json;
  const MarkdownTable setups = setups_table(run, json);
  const MarkdownTable ratios = ratios_table(run, json);
  const MarkdownTable burst = burst_table(run, json);
  std::ostringstream report;
  report
      << "# bench/flowtable\n\n"
      << describe(run.machine) << "\n"
      << "Medians of " << run.rounds << " rounds (setups in alternating order); pktgen "
      << run.frames << " frames of 64 bytes per run; iperf3 " << run.tcp_seconds
      << " s per run with GSO, TSO and GRO off. Flowtable devices: " << device_list(run.devices)
      << ".\n\n"
      << setups.text() << "\n"
      << ratios.text() << "\n"
      << "Device-set convergence with --flowtable (a flowtable holds at most "
      << state::kMaxFlowtableDevices
      << " devices; the rest use cni0). Link events: RTM_NEWLINK/RTM_DELLINK of the links "
         "themselves; the last change is the last link event after which the devices the "
         "daemon should bind were not the same (what state::fast_path_devices makes of the "
         "links seen). A deleted device leaves the flowtable by itself (the kernel unbinds it), so "
         "a burst of deletions may need no commit at all:\n\n"
      << burst.text();
  for (const auto& result : run.bursts) {
    for (const auto& line : result.error_lines) report << "\n    " << result.phase << ": " << line;
  }
  std::cout << "\n" << report.str();
  json["machine"] = {
      {"kernel", run.machine.kernel}, {"cpus", run.machine.cpus}, {"date", run.machine.date}};
  write_result_file(results_dir / "flowtable.md", report.str());
  write_result_file(results_dir / "flowtable.json", json.dump(2) + "\n");
}

}  // namespace fnft::bench
