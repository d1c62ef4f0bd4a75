#include "daemon/nftables_backend.hpp"

#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>

#include "netlink/netlink_error.hpp"
#include "netlink/nft_dump.hpp"
#include "state/desired_ruleset.hpp"
#include "state/ruleset_diff.hpp"

namespace fnft::daemon {
namespace {

BackendResult result_of(const netlink::ApplyResult& applied) {
  BackendResult result;
  result.committed = applied.committed;
  for (const auto& operation : applied.applied)
    result.changes.push_back(state::describe(operation));
  result.notes = applied.notes;
  result.generation = netlink::generation_text(applied);
  return result;
}

// A note names at most this many of the devices left out.
constexpr std::size_t kDevicesNamed = 8;

// The flowtable devices a refused batch shows to be gone: the one the extended ack names, or,
// from kernels that name none (before 6.3: a bare ENOENT), those the kernel no longer knows.
std::vector<std::string> vanished_devices(const netlink::NetlinkError& error,
                                          const state::Target& target) {
  const auto& rejected = error.rejected();
  if (!target.fast_path || !rejected || rejected->type != NFT_MSG_NEWFLOWTABLE) return {};
  const auto& devices = target.fast_path->devices;
  if (rejected->device) {
    if (std::find(devices.begin(), devices.end(), *rejected->device) == devices.end()) return {};
    return {*rejected->device};
  }
  if (error.error_code() != ENOENT) return {};
  std::vector<std::string> vanished;
  for (const auto& device : devices) {
    if (if_nametoindex(device.c_str()) == 0) vanished.push_back(device);
  }
  return vanished;
}

}  // namespace

NftablesBackend::NftablesBackend(netlink::NfnlSocket& socket) : socket_(socket), tables_(socket) {}

std::vector<netlink::WatchedTable> NftablesBackend::watched() const {
  std::vector<netlink::WatchedTable> watched;
  for (const auto& table : tables_.owned_tables())
    watched.push_back({table.family, table.name, {}});
  return watched;
}

void NftablesBackend::apply(const state::Target& target,
                            const std::vector<state::OwnedTable>& scope, Done done) {
  BackendResult result;
  std::vector<std::string> notes;
  try {
    // A device can go between the link event that named it and our commit: the kernel then
    // refuses the whole batch, so it is sent again at once without that device rather than
    // leaving every rule of the table waiting (the link event that follows settles it).
    // Each round leaves out at least one device, so a burst of pods going while we retry
    // ends the loop in at most one round per device.
    state::Target sent = target;
    std::vector<std::string> left_out;
    for (;;) {
      try {
        const state::Ruleset desired = state::desired_nft_ruleset(sent);
        result = result_of(scope.empty() ? tables_.apply(desired) : tables_.apply(desired, scope));
        break;
      } catch (const netlink::NetlinkError& error) {
        const auto vanished = vanished_devices(error, sent);
        if (vanished.empty()) throw;
        for (const auto& device : vanished) std::erase(sent.fast_path->devices, device);
        left_out.insert(left_out.end(), vanished.begin(), vanished.end());
      }
    }
    if (!left_out.empty()) {
      std::string names;
      for (std::size_t i = 0; i < left_out.size() && i < kDevicesNamed; ++i)
        names += (i == 0 ? "" : ", ") + left_out[i];
      if (left_out.size() > kDevicesNamed) names += ", ...";
      notes.push_back(std::to_string(left_out.size()) + " device(s) went away before the commit (" +
                      names + "): the flowtable was bound without them");
    }
  } catch (const std::exception& error) {  // NetlinkError, and bad_alloc, invalid_argument
    result.error = error.what();
  }
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());
  done(std::move(result));
}

void NftablesBackend::observe(const state::Target& target, Observed done) {
  BackendObservation observation;
  try {
    const state::Ruleset desired = state::desired_nft_ruleset(target);
    state::Ruleset observed = tables_.observe(desired);
    netlink::order_chains_like(observed, desired);
    observation.matches = observed == desired;
    if (!observation.matches) observation.difference = state::diff_text(desired, observed);
  } catch (const std::exception& error) {
    observation.error = error.what();
  }
  done(std::move(observation));
}

void NftablesBackend::cleanup(Done done) {
  BackendResult result;
  try {
    for (const auto& operation : tables_.cleanup()) {
      result.changes.push_back(state::describe(operation));
    }
    result.committed = !result.changes.empty();
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  done(std::move(result));
}

bool NftablesBackend::is_own(const netlink::NftTransaction& transaction) const {
  return transaction.portid == socket_.portid();
}

}  // namespace fnft::daemon
