#include "netlink/nft_probe.hpp"

#include "netlink/netlink_error.hpp"
#include "netlink/nft_operations.hpp"
#include "state/nft_plan.hpp"

namespace fnft::netlink {
namespace {

using Kind = state::NftOperation::Kind;

state::NftOperation probe_operation(Kind kind, std::string chain = {}) {
  state::NftOperation op;
  op.kind = kind;
  op.family = state::Family::ipv4;
  op.table = kProbeTable;
  op.chain = std::move(chain);
  return op;
}

}  // namespace

std::optional<std::string> kernel_refuses(NfnlSocket& socket,
                                          const std::function<void(NftBatch&)>& build) {
  NftBatch batch;
  build(batch);
  try {
    batch.check(socket);
  } catch (const NetlinkError& error) {
    return std::string(error.what());
  }
  return std::nullopt;
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
