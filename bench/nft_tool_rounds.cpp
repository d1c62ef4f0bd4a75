#include "bench/nft_tool_rounds.hpp"

#include <stdexcept>
#include <thread>

#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "daemon/process/child_process.hpp"

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;

Snapshot restored(const RepairContext& context, const std::string& what) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    Snapshot snapshot = take_snapshot(context);
    if (snapshot.matches_desired) return snapshot;
    if (Clock::now() > deadline) {
      throw std::runtime_error(what + ": the flannel tables were not restored within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

NftToolSamples measure_nft_tool(const RepairContext& context, const NftToolMutation& mutation,
                                testkit::TrackedProcess& daemon, const RepairSettings& settings,
                                bool protect) {
  NftToolSamples samples;
  samples.name = mutation.name;
  samples.protect = protect;
  const auto daemon_pid = static_cast<std::uint32_t>(daemon.pid());
  const auto count_daemon = [&](const GenerationEvent& event) {
    if (event.pid == daemon_pid) ++samples.daemon_commits;
  };
  Snapshot snapshot = restored(context, mutation.name);
  context.monitor.drain([](const GenerationEvent&) {});
  auto next_start = Clock::now();
  for (int i = 0; i < settings.iterations; ++i) {
    std::this_thread::sleep_until(next_start);
    next_start = Clock::now() + settings.pace;
    const std::string script = mutation.script(snapshot.ruleset);
    daemon::ChildProcess nft({"nft", "-f", "-"}, script);
    const auto nft_pid = static_cast<std::uint32_t>(nft.pid());
    const daemon::ChildResult result = nft.wait();
    if (!daemon.running()) {
      throw std::runtime_error("flannel-nftd " + daemon.exit_status() + " during " + mutation.name);
    }
    if (protect) {
      if (!result.ok()) {
        if (result.err.find("Operation not permitted") == std::string::npos) {
          throw std::runtime_error(mutation.name +
                                   ": nft failed otherwise than refused: " + result.err);
        }
        ++samples.refused;
        if (samples.refusal.empty()) samples.refusal = first_line(result.err);
      }
      snapshot = take_snapshot(context);
      if (!snapshot.matches_desired) {
        ++samples.rules_missing;
        snapshot = restored(context, mutation.name);
      } else if (result.ok()) {
        ++samples.skipped;
      }
      context.monitor.drain(count_daemon);
      std::this_thread::sleep_for(settings.gap);
      continue;
    }
    if (!result.ok()) {
      throw std::runtime_error(mutation.name + ": `nft -f -` failed: " + result.err + script);
    }
    const auto deadline = Clock::now() + settings.timeout;
    const auto foreign = context.monitor.wait_for(
        [&](const GenerationEvent& event) {
          return event.pid == nft_pid && event.generation > snapshot.generation;
        },
        deadline);
    const auto repair =
        foreign ? context.monitor.wait_for(
                      [&](const GenerationEvent& event) {
                        return event.pid == daemon_pid && event.generation > foreign->generation;
                      },
                      deadline)
                : std::nullopt;
    if (!repair) {
      ++samples.timeouts;
      snapshot = restored(context, mutation.name);
    } else {
      const double micros =
          std::chrono::duration<double, std::micro>(repair->received - foreign->received).count();
      samples.latency_us.push_back(micros);
      if (micros > kLostRaceMicros) ++samples.lost_race;
      snapshot = take_snapshot(context);
      if (!snapshot.matches_desired) {
        ++samples.not_restored;
        snapshot = restored(context, mutation.name);
      }
    }
    std::this_thread::sleep_for(settings.gap);
  }
  return samples;
}

std::string nft_tool_table(const std::vector<NftToolSamples>& phases) {
  MarkdownTable table({"mutation (real nft)", "--protect", "rounds", "p50 us", "p99 us", "max us",
                       "lost the race", "refused / skipped", "rounds with our rules changed",
                       "daemon commits", "timeouts"});
  for (const auto& phase : phases) {
    const Summary summary = summarize(phase.latency_us);
    const int rounds = phase.protect ? phase.refused + phase.skipped + phase.rules_missing
                                     : static_cast<int>(summary.count) + phase.timeouts;
    const auto us = [&](double value) { return phase.protect ? "-" : fixed(value, 0); };
    table.add_row(
        {phase.name, phase.protect ? "on" : "off", std::to_string(rounds), us(summary.median),
         us(summary.p99), us(summary.max), phase.protect ? "-" : std::to_string(phase.lost_race),
         phase.protect ? std::to_string(phase.refused) + " / " + std::to_string(phase.skipped)
                       : "-",
         phase.protect ? std::to_string(phase.rules_missing) : "(all, until repaired)",
         phase.protect ? std::to_string(phase.daemon_commits) : "-",
         std::to_string(phase.timeouts)});
  }
  return table.text();
}

nlohmann::json nft_tool_json(const std::vector<NftToolSamples>& phases) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& phase : phases) {
    const Summary summary = summarize(phase.latency_us);
    json.push_back({{"mutation", phase.name},
                    {"protect", phase.protect},
                    {"repairs", summary.count},
                    {"p50_us", summary.median},
                    {"p99_us", summary.p99},
                    {"max_us", summary.max},
                    {"lost_race", phase.lost_race},
                    {"refused", phase.refused},
                    {"skipped", phase.skipped},
                    {"rules_missing", phase.rules_missing},
                    {"daemon_commits", phase.daemon_commits},
                    {"timeouts", phase.timeouts},
                    {"not_restored", phase.not_restored},
                    {"refusal", phase.refusal}});
  }
  return json;
}

}  // namespace fnft::bench
