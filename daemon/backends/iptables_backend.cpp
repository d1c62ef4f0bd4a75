#include "daemon/backends/iptables_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <system_error>

#include "daemon/backends/iptables_tools.hpp"
#include "daemon/process/async_child.hpp"
#include "netlink/iptables_nft_rules.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/nft_probe.hpp"
#include "state/iptables_plan.hpp"
#include "state/iptables_save.hpp"

namespace fnft::daemon {
namespace {

constexpr std::chrono::seconds kToolTimeout{30};
constexpr std::chrono::seconds kCountersTimeout{5};  // see Backend::read_counters
// Enough to recognise the commits of every restore still in flight or just done.
constexpr std::size_t kOwnPidsKept = 16;

// A masquerade rule with the option in a chain of its own: `--test` parses it with the
// restore tool's own extension, and commits nothing.
constexpr const char* kFullyRandomProbe =
    "*nat\n:FLANNEL-NFTD-PROBE - [0:0]\n-A FLANNEL-NFTD-PROBE -j MASQUERADE --random-fully\n"
    "COMMIT\n";

std::vector<state::Family> families_of(const std::vector<state::OwnedTable>& scope) {
  std::vector<state::Family> families;
  for (const auto& table : scope) {
    if (std::find(families.begin(), families.end(), table.family) == families.end()) {
      families.push_back(table.family);
    }
  }
  return families;
}

const std::optional<state::FamilyNetworks>& networks_of(const state::NodeConfig& config,
                                                        state::Family family) {
  return family == state::Family::ipv4 ? config.ipv4 : config.ipv6;
}

}  // namespace

struct IptablesBackend::Job {
  enum class Purpose { apply, observe, cleanup } purpose;
  std::vector<FamilyWork> work;
  std::size_t next = 0;
  BackendResult result;
  std::string difference;
  Done applied;
  Observed observed;
};

IptablesBackend::IptablesBackend(boost::asio::io_context& io, netlink::NfnlSocket& probe_socket,
                                 Options options)
    : io_(io), probe_socket_(probe_socket), options_(options) {}

BackendKind IptablesBackend::kind() const {
  return options_.which == state::IptablesVariant::nft ? BackendKind::iptables_nft
                                                       : BackendKind::iptables_legacy;
}

std::vector<netlink::WatchedTable> IptablesBackend::watched() const {
  if (options_.which == state::IptablesVariant::legacy) return {};
  std::vector<netlink::WatchedTable> watched;
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    watched.push_back({family, "nat", {"POSTROUTING", std::string(state::kIptablesMasqChain)}});
    watched.push_back({family, "filter", {"FORWARD", std::string(state::kIptablesForwardChain)}});
  }
  return watched;
}

std::optional<std::chrono::milliseconds> IptablesBackend::poll_period() const {
  if (options_.which == state::IptablesVariant::legacy) return options_.poll_period;
  return std::nullopt;
}

std::vector<IptablesBackend::FamilyWork> IptablesBackend::work_for(
    const state::NodeConfig& config, const std::vector<state::OwnedTable>& scope) const {
  // A full apply also looks at the families the config does not enable: their rules go.
  const std::vector<state::Family> families =
      scope.empty() ? std::vector<state::Family>{state::Family::ipv4, state::Family::ipv6}
                    : families_of(scope);
  state::RuleOptions options = config.options;
  options.masq_fully_random = options.masq_fully_random && fully_random_.value_or(false);
  std::vector<FamilyWork> work;
  for (const auto family : families) {
    const auto& networks = networks_of(config, family);
    work.push_back({family, networks ? state::desired_iptables_ruleset(family, *networks, options)
                                     : state::IptablesRuleset{family, {}}});
  }
  return work;
}

void IptablesBackend::apply(const state::Target& target,
                            const std::vector<state::OwnedTable>& scope, Done done) {
  probe_fully_random([this, config = target.config, scope, done = std::move(done)]() mutable {
    auto job = std::make_shared<Job>();
    job->purpose = Job::Purpose::apply;
    job->work = work_for(config, scope);
    job->applied = std::move(done);
    if (!fully_random_note_.empty() && config.options.masq_fully_random) {
      job->result.notes.push_back(std::exchange(fully_random_note_, {}));
    }
    next_family(job);
  });
}

void IptablesBackend::observe(const state::Target& target, Observed done) {
  probe_fully_random([this, config = target.config, done = std::move(done)]() mutable {
    auto job = std::make_shared<Job>();
    job->purpose = Job::Purpose::observe;
    job->work = work_for(config, {});
    job->observed = std::move(done);
    next_family(job);
  });
}

void IptablesBackend::cleanup(Done done) {
  auto job = std::make_shared<Job>();
  job->purpose = Job::Purpose::cleanup;
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    job->work.push_back({family, state::IptablesRuleset{family, {}}});
  }
  job->applied = std::move(done);
  next_family(job);
}

bool IptablesBackend::is_own(const netlink::NftTransaction& transaction) const {
  return std::find(own_pids_.begin(), own_pids_.end(), static_cast<pid_t>(transaction.pid)) !=
         own_pids_.end();
}

void IptablesBackend::next_family(const std::shared_ptr<Job>& job) {
  if (job->next == job->work.size() || job->result.error) {
    finish(job);
    return;
  }
  const FamilyWork& work = job->work[job->next++];
  const IptablesTools tools = iptables_tools(options_.which, work.family);
  // How a change is named in the log: "ip6tables filter: add chain FLANNEL-FWD (2 rules)".
  const std::string name(state::iptables_family_tool(work.family));
  // Cleaning up after iptables-legacy must not load its modules just to find nothing.
  if (job->purpose == Job::Purpose::cleanup && options_.which == state::IptablesVariant::legacy) {
    std::string why;
    switch (legacy_tables(work.family, why)) {
      case LegacyTables::none: next_family(job); return;
      case LegacyTables::some: break;
      case LegacyTables::unknown:
        job->result.error = std::string(state::to_string(options_.which)) + ": " + why;
        finish(job);
        return;
    }
  }
  // iptables-nft's tables are nf_tables tables: the daemon's own socket tells whether they
  // hold anything of flanneld's, so a node in the nftables mode runs no program to learn
  // that they do not. Where they do, the tools remove it, as they wrote it.
  if (job->purpose == Job::Purpose::cleanup && options_.which == state::IptablesVariant::nft) {
    try {
      if (!netlink::iptables_nft_holds_flanneld_rules(probe_socket_, work.family)) {
        next_family(job);
        return;
      }
    } catch (const netlink::NetlinkError& error) {
      spdlog::debug("{}: cannot read iptables-nft's tables over netlink ({}); asking {}", name,
                    error.what(), tools.save);
    }
  }
  run_tool({tools.save}, {},
           [this, job, tools, name, desired = work.desired](const ChildResult& saved) {
             if (!saved.ok()) {
               job->result.error = tool_failure({tools.save}, saved);
               finish(job);
               return;
             }
             const state::IptablesPlan plan =
                 state::plan_iptables_changes(desired, state::parse_iptables_save(saved.out));
             if (plan.empty()) {
               next_family(job);
               return;
             }
             std::vector<std::string> changes;
             for (const auto& change : plan.changes) changes.push_back(name + " " + change);
             if (job->purpose == Job::Purpose::observe) {
               for (const auto& change : changes) job->difference += change + "\n";
               next_family(job);
               return;
             }
             if (job->purpose == Job::Purpose::apply) diverged();
             restore_family(job, changes, plan.restore_payload, plan.nat_changed);
           });
}

void IptablesBackend::restore_family(const std::shared_ptr<Job>& job,
                                     const std::vector<std::string>& changes,
                                     const std::string& payload, bool nat_changed) {
  const IptablesTools tools = iptables_tools(options_.which, job->work[job->next - 1].family);
  const std::vector<std::string> argv = restore_command(tools);
  run_tool(argv, payload, [this, job, argv, changes, nat_changed](const ChildResult& restored) {
    if (!restored.ok()) {
      job->result.error = tool_failure(argv, restored);
      finish(job);
      return;
    }
    job->result.committed = true;
    job->result.masquerade_changed = job->result.masquerade_changed || nat_changed;
    job->result.changes.insert(job->result.changes.end(), changes.begin(), changes.end());
    next_family(job);
  });
}

void IptablesBackend::finish(const std::shared_ptr<Job>& job) {
  if (job->purpose == Job::Purpose::observe) {
    BackendObservation observation;
    observation.error = job->result.error;
    observation.matches = !job->result.error && job->difference.empty();
    observation.difference = std::move(job->difference);
    job->observed(std::move(observation));
    return;
  }
  job->applied(std::move(job->result));
}

void IptablesBackend::probe_fully_random(std::function<void()> then) {
  if (fully_random_) {
    then();
    return;
  }
  const IptablesTools tools = iptables_tools(options_.which, state::Family::ipv4);
  const std::vector<std::string> argv = {tools.restore, "--test", "--noflush"};
  run_tool(
      argv, kFullyRandomProbe, [this, argv, then = std::move(then)](const ChildResult& tested) {
        const std::string tool = argv.front();
        if (!tested.ok()) {
          fully_random_ = false;
          fully_random_note_ = "masquerading without --random-fully: " + tool +
                               " does not take it (" + tested.describe(argv) + ")";
        } else if (options_.which == state::IptablesVariant::nft &&
                   !netlink::kernel_masquerades_fully_random(probe_socket_)) {
          fully_random_ = false;
          fully_random_note_ =
              "masquerading without --random-fully: the kernel refuses a fully-random masquerade";
        } else {
          fully_random_ = true;
        }
        then();
      });
}

void IptablesBackend::read_counters(const state::Target& target, Counted done) {
  std::vector<state::Family> families;
  if (target.config.ipv4) families.push_back(state::Family::ipv4);
  if (target.config.ipv6) families.push_back(state::Family::ipv6);
  struct Pending {
    state::RuleCounters counters;
    std::size_t left = 0;
    Counted done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = families.size();
  pending->done = std::move(done);
  if (families.empty()) {
    pending->done(std::move(pending->counters));
    return;
  }
  // Both families' tools run at once; the answer goes when the last one is done.
  for (const auto family : families) {
    const IptablesTools tools = iptables_tools(options_.which, family);
    const std::string tool = tools.save.substr(0, tools.save.size() - std::string("-save").size());
    const std::vector<std::string> argv = {tools.save, "-c"};
    run_tool(argv, {}, kCountersTimeout, [pending, tool, argv](const ChildResult& saved) {
      auto& counters = pending->counters;
      if (!saved.ok()) {
        const std::string failure = saved.describe(argv);
        counters.error = counters.error ? *counters.error + "; " + failure : failure;
      }
      auto rules = state::iptables_rule_counters(saved.out, tool);
      counters.rules.insert(counters.rules.end(), rules.begin(), rules.end());
      if (--pending->left == 0) pending->done(std::move(counters));
    });
  }
}

void IptablesBackend::run_tool(const std::vector<std::string>& argv, std::string input,
                               std::function<void(ChildResult)> done) {
  run_tool(argv, std::move(input), kToolTimeout, std::move(done));
}

void IptablesBackend::run_tool(const std::vector<std::string>& argv, std::string input,
                               std::chrono::milliseconds timeout,
                               std::function<void(ChildResult)> done) {
  pid_t pid = -1;
  try {
    // A copy: `done` must survive a start that throws.
    pid = AsyncChild::start(io_, argv, std::move(input), timeout, done);
  } catch (const std::system_error& error) {
    ChildResult failed;
    failed.err = error.code().value() == ENOENT
                     ? argv.front() + " is not installed (install Debian's iptables package)"
                     : error.what();
    // Said through the same path as a tool that failed, after this call returns.
    boost::asio::post(io_, [done = std::move(done), failed] { done(failed); });
    return;
  }
  own_pids_.push_back(pid);
  if (own_pids_.size() > kOwnPidsKept) own_pids_.pop_front();
}

}  // namespace fnft::daemon
