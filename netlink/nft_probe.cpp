#include "netlink/nft_probe.hpp"

#include <cerrno>
#include <cstring>

#include "netlink/detail/nft_operations.hpp"
#include "netlink/netlink_error.hpp"
#include "state/nft_plan.hpp"

namespace fnft::netlink {
namespace {

using Kind = state::NftOperation::Kind;

// No device has this name: the kernel refuses the chain's or the flowtable's hook on it
// unless hooks are bound by name. 15 characters, the most IFNAMSIZ allows.
constexpr const char* kAbsentDevice = "fnft-probe-none";

state::NftOperation probe_operation(Kind kind, std::string chain = {},
                                    state::Family family = state::Family::ipv4) {
  state::NftOperation op;
  op.kind = kind;
  op.family = family;
  op.table = kProbeTable;
  op.chain = std::move(chain);
  return op;
}

}  // namespace

namespace {

std::optional<NetlinkError> refusal(NfnlSocket& socket,
                                    const std::function<void(NftBatch&)>& build) {
  NftBatch batch;
  build(batch);
  try {
    batch.check(socket);
  } catch (const NetlinkError& error) {
    return error;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> kernel_refuses(NfnlSocket& socket,
                                          const std::function<void(NftBatch&)>& build) {
  if (auto error = refusal(socket, build)) return std::string(error->what());
  return std::nullopt;
}

namespace {

// In both families: the daemon's tables are ip and ip6.
std::optional<std::string> kernel_refuses_flowtable(NfnlSocket& socket,
                                                    const state::Flowtable& flowtable) {
  for (const auto family : {state::Family::ipv4, state::Family::ipv6}) {
    const auto refused = refusal(socket, [&](NftBatch& batch) {
      add_operation(batch, probe_operation(Kind::add_table, {}, family));
      state::NftOperation op = probe_operation(Kind::add_flowtable, {}, family);
      op.flowtable = flowtable;
      add_operation(batch, op);
    });
    if (!refused) continue;
    // What a kernel without the feature answers; anything else (no CAP_NET_ADMIN, a socket
    // error) says nothing about the feature and is the caller's to report.
    const int code = refused->error_code();
    if (code != ENOENT && code != EOPNOTSUPP && code != EINVAL) throw *refused;
    // The errno in words is all there is to say: the batch is ours and fixed.
    return "a flowtable in family " + std::string(state::nft_family_name(family)) +
           " is refused with " + std::strerror(code);
  }
  return std::nullopt;
}

}  // namespace

FlowtableSupport probe_flowtables(NfnlSocket& socket) {
  FlowtableSupport support;
  state::Flowtable flowtable;
  flowtable.name = "probe";
  if (auto refused = kernel_refuses_flowtable(socket, flowtable)) {
    support.unavailable = std::move(*refused);
    return support;
  }
  flowtable.counter = true;
  support.counter = !kernel_refuses_flowtable(socket, flowtable);
  flowtable.counter = false;
  flowtable.devices = {kAbsentDevice};
  support.name_based_hooks = !kernel_refuses_flowtable(socket, flowtable);
  return support;
}

std::optional<std::string> table_protection_refused(NfnlSocket& socket) {
  const auto refused = refusal(socket, [](NftBatch& batch) {
    state::NftOperation table = probe_operation(Kind::add_table);
    table.protection = state::Protection::held;
    add_operation(batch, table);
  });
  if (!refused) return std::nullopt;
  const int code = refused->error_code();
  if (code != EOPNOTSUPP && code != EINVAL) throw *refused;
  return "a table with flags owner, persist is refused with " + std::string(std::strerror(code));
}

bool kernel_masquerades_fully_random(NfnlSocket& socket) {
  return !kernel_refuses(socket, [](NftBatch& batch) {
    add_operation(batch, probe_operation(Kind::add_table));
    state::NftOperation chain = probe_operation(Kind::add_chain, "postrouting");
    chain.base = state::BaseChain{state::ChainType::nat, state::Hook::postrouting,
                                  state::kPrioritySrcNat, state::Policy::accept};
    add_operation(batch, chain);
    state::NftOperation rule = probe_operation(Kind::add_rule, "postrouting");
    rule.rule.action = state::Action{state::Action::Kind::masquerade, true, {}};
    add_operation(batch, rule);
  });
}

}  // namespace fnft::netlink
