#include "netlink/nft_table_sync.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <string>

#include "netlink/detail/netlink_port_owner.hpp"
#include "netlink/netlink_error.hpp"
#include "netlink/nft_dump.hpp"
#include "state/desired_ruleset.hpp"
#include "state/known_ruleset.hpp"

namespace fnft::netlink {
namespace {

constexpr int kMaxCommitAttempts = 5;

// The kernel would refuse any change with EPERM; say who holds the table instead.
NetlinkError owned_elsewhere(const state::UnmodeledTable& table) {
  const std::uint32_t port = *table.owner_portid;
  const auto owner = netfilter_port_owner(port);
  std::string text = "table " + std::string(state::nft_family_name(table.family)) + " " +
                     table.name + " is owned by another process (`flags owner`, " +
                     describe_netfilter_port(port) + "): only that process can change or delete it";
  if (owner && owner->name == "flannel-nftd") {
    text +=
        ". A running flannel-nftd holds it (--protect): stop that daemon first (`systemctl "
        "stop flannel-nftd`); its tables then stay in place, unowned, for the next daemon to "
        "take back or for `flannel-nftd cleanup` to remove";
  } else {
    text += owner ? "" : " (`ss -f netlink -p` as root names the process)";
    text += "; once it is stopped, flannel-nftd puts its own table back within seconds";
  }
  return NetlinkError(EPERM, text);
}

// One batch per family, in the order the plan names them: a family the kernel refuses (a
// table owned elsewhere, a device gone from its flowtable, a feature its family lacks) keeps
// no other family from its rules.
std::vector<std::vector<state::NftOperation>> batches_by_family(
    std::vector<state::NftOperation> operations) {
  std::vector<std::vector<state::NftOperation>> batches;
  std::vector<state::Family> families;
  for (auto& operation : operations) {
    const auto index = static_cast<std::size_t>(
        std::find(families.begin(), families.end(), operation.family) - families.begin());
    if (index == families.size()) {
      families.push_back(operation.family);
      batches.emplace_back();
    }
    batches[index].push_back(std::move(operation));
  }
  return batches;
}

// Batches conditional on the dump's generation: a stale plan is refused (ERESTART) rather
// than applied. When other processes commit too fast for one to land, the batch goes without
// the condition: it names only our tables, and a change to them that lands in between is an
// event like any other, repaired next.
constexpr int kConditionalAttempts = 2;

bool may_retry(const NetlinkError& error, bool conditional) {
  if (error.error_code() == ERESTART) return true;
  // Unconditional: a rule we delete by handle may be gone already, a chain we add may exist.
  return !conditional && (error.error_code() == ENOENT || error.error_code() == EEXIST);
}

// Plans from a fresh dump and commits, one batch per family; a refused batch means the plan
// went stale before it landed, so the whole cycle is repeated rather than the batch (the
// families committed already plan nothing the next time round). A family whose batch the
// kernel refuses for any other reason is a failure of that family only: the error is thrown
// when nothing was committed at all, and listed in `failures` otherwise.
template <typename Plan>
ApplyResult commit_planned(NftKernel& kernel, const std::vector<state::OwnedTable>& owned,
                           const state::Ruleset& expected, const Plan& plan, const char* what) {
  ApplyResult result;
  for (int attempt = 1;; ++attempt) {
    ObservedRuleset dumped = kernel.dump(owned, expected);
    const state::PlannableTables plannable = state::leave_out_tables_owned_elsewhere(
        std::move(dumped.ruleset), std::move(dumped.unmodeled), owned, kernel.portid());
    result.attempts = attempt;
    result.generation_before = dumped.generation;
    state::TableSyncPlan planned = plan(plannable);
    result.notes = std::move(planned.notes);
    result.failures.clear();
    for (const auto& table : plannable.owned_elsewhere)
      result.failures.push_back(owned_elsewhere(table));

    std::optional<std::uint32_t> generation = dumped.generation;
    const bool conditional = generation && attempt <= kConditionalAttempts;
    std::optional<NetlinkError> stale;
    for (auto& operations : batches_by_family(std::move(planned.operations))) {
      try {
        kernel.commit(operations, conditional ? generation : std::nullopt);
      } catch (const NetlinkError& error) {
        if (may_retry(error, conditional)) {
          stale = error;
          break;
        }
        result.failures.push_back(error);
        continue;
      }
      result.committed = true;
      result.applied.insert(result.applied.end(), std::make_move_iterator(operations.begin()),
                            std::make_move_iterator(operations.end()));
      // A conditional batch landed on `generation`, and every commit advances the generation
      // by one (skipping 0): the next family's batch is conditional on that, and no second
      // round trip is needed to know it.
      if (conditional) generation = state::next_generation(*generation);
    }
    result.generation_after = result.committed && conditional ? generation : std::nullopt;
    if (stale) {
      if (attempt == kMaxCommitAttempts) {
        throw NetlinkError(stale->error_code(),
                           std::string(what) +
                               ": the nftables ruleset changed between dump and "
                               "commit " +
                               std::to_string(attempt) +
                               " times in a row; another process commits continuously (`nft "
                               "monitor` shows which). Last: " +
                               stale->what());
      }
      continue;
    }
    if (!result.committed && !result.failures.empty()) throw result.failures.front();
    return result;
  }
}

}  // namespace

std::string generation_text(const ApplyResult& result) {
  if (!result.generation_before) return {};
  std::string text = " (generation " + std::to_string(*result.generation_before);
  if (result.generation_after) text += " -> " + std::to_string(*result.generation_after);
  return text + ")";
}

std::vector<state::OwnedTable> NftTableSync::default_owned_tables() {
  return {{state::Family::ipv4, std::string(state::kIpv4TableName)},
          {state::Family::ipv6, std::string(state::kIpv6TableName)}};
}

NftTableSync::NftTableSync(NfnlSocket& socket, std::vector<state::OwnedTable> owned)
    : netlink_kernel_(std::make_unique<NetlinkNftKernel>(socket)),
      kernel_(*netlink_kernel_),
      owned_(std::move(owned)) {}

NftTableSync::NftTableSync(NftKernel& kernel, std::vector<state::OwnedTable> owned)
    : kernel_(kernel), owned_(std::move(owned)) {}

ApplyResult NftTableSync::apply(const state::Ruleset& desired) {
  return apply(desired, owned_);
}

ApplyResult NftTableSync::apply(const state::Ruleset& desired,
                                const std::vector<state::OwnedTable>& scope,
                                const std::vector<std::string>& devices_as_found) {
  const auto plan = [&](const state::PlannableTables& tables) {
    return state::plan_table_sync(desired, tables, devices_as_found);
  };
  return commit_planned(kernel_, scope, desired, plan, "apply the flannel tables");
}

ApplyResult NftTableSync::apply_known(const state::Ruleset& desired, const state::Ruleset& known,
                                      std::uint32_t generation,
                                      const std::vector<state::OwnedTable>& scope) {
  ApplyResult result;
  result.generation_before = generation;
  result.applied = state::plan_nft_changes(desired, known, scope);
  if (result.applied.empty()) return result;
  kernel_.commit(result.applied, generation);
  result.committed = true;
  result.generation_after = state::next_generation(generation);
  return result;
}

state::Ruleset NftTableSync::observe(const state::Ruleset& expected) {
  return read(expected).ruleset;
}

ObservedRuleset NftTableSync::read(const state::Ruleset& expected) {
  return kernel_.dump(owned_, expected);
}

ApplyResult NftTableSync::cleanup() {
  return apply_plan(state::plan_tables_removal, "delete the flannel tables");
}

ApplyResult NftTableSync::apply_plan(const Plan& plan, const char* what) {
  const auto planned = [&](const state::PlannableTables& tables) {
    return state::TableSyncPlan{plan(tables.observed), {}};
  };
  return commit_planned(kernel_, owned_, {}, planned, what);
}

}  // namespace fnft::netlink
