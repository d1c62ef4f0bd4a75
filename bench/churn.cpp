#include "bench/churn.hpp"

#include <stdexcept>
#include <thread>
#include <vector>

namespace fnft::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = state::NftOperation::Kind;

constexpr const char* kChurnTable = "bench-churn";
constexpr const char* kChurnChain = "churn";

state::NftOperation churn_operation(Kind kind) {
  state::NftOperation op;
  op.kind = kind;
  op.family = state::Family::ipv4;
  op.table = kChurnTable;
  if (kind != Kind::add_table && kind != Kind::delete_table) op.chain = kChurnChain;
  return op;
}

// Waits until the daemon's CPU time stops moving for 100 ms (it has drained its event
// queue), at most 10 s.
testkit::CpuTime settled_cpu_time(testkit::TrackedProcess& daemon) {
  testkit::CpuTime previous = daemon.cpu_time();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const testkit::CpuTime now = daemon.cpu_time();
    if (now.runtime == previous.runtime) return now;
    previous = now;
  }
  return previous;
}

}  // namespace

ChurnResult run_churn(const RepairContext& context, testkit::TrackedProcess& daemon,
                      const std::string& name, int transactions, std::chrono::microseconds gap) {
  const auto daemon_pid = static_cast<std::uint32_t>(daemon.pid());
  const std::uint32_t own_portid = context.command.portid();
  ChurnResult result;
  result.name = name;
  result.transactions = transactions;
  result.gap = gap;

  state::NftOperation add_rule = churn_operation(Kind::add_rule);
  add_rule.rule.matches.push_back(state::AddressMatch{state::AddressField::saddr, false,
                                                      *state::parse_cidr("198.51.100.0/24")});
  add_rule.rule.counter = true;
  add_rule.rule.action.kind = state::Action::Kind::accept;
  add_rule.rule.comment = "bench: churn";
  const std::vector<state::NftOperation> add{add_rule};
  const std::vector<state::NftOperation> flush{churn_operation(Kind::flush_chain)};

  commit(context, {churn_operation(Kind::add_table), churn_operation(Kind::add_chain)});
  // The table's creation, and anything before it, is not part of the churn.
  const auto is_own = [&](const GenerationEvent& event) { return event.portid == own_portid; };
  if (!context.monitor.wait_for(is_own, Clock::now() + std::chrono::seconds(2))) {
    throw std::runtime_error("the monitor never saw table ip bench-churn being created");
  }
  context.monitor.drain([](const GenerationEvent&) {});
  result.before = settled_cpu_time(daemon);

  const auto started = Clock::now();
  for (int i = 0; i < transactions; ++i) {
    commit(context, i % 2 == 0 ? add : flush);
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
  }
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();

  // Every one of our commits must reach the monitor (so it reached the daemon's socket too);
  // any commit by the daemon meanwhile would be a repair nobody asked for.
  int seen = 0;
  const auto count = [&](const GenerationEvent& event) {
    if (event.pid == daemon_pid) ++result.daemon_commits;
    if (event.portid == own_portid) ++seen;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (seen < transactions && Clock::now() < deadline) {
    const auto event = context.monitor.wait_for(is_own, deadline, count);
    if (!event) break;
    count(*event);
  }
  result.after = settled_cpu_time(daemon);
  result.lost_commits = transactions - seen;
  context.monitor.drain(count);

  commit(context, {churn_operation(Kind::delete_table)});
  return result;
}

ChurnResult measure_idle(testkit::TrackedProcess& daemon, std::chrono::milliseconds duration) {
  ChurnResult result;
  result.name = "idle";
  result.before = daemon.cpu_time();
  std::this_thread::sleep_for(duration);
  result.after = daemon.cpu_time();
  result.wall_seconds = std::chrono::duration<double>(duration).count();
  return result;
}

}  // namespace fnft::bench
