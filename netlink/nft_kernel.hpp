// What NftTableSync needs of the kernel: our tables read at one generation, one batch
// committed atomically (conditional on a generation or not), and the port our commits carry.
// NetlinkNftKernel is the kernel itself, over an NfnlSocket; unit tests use
// tests/fake_nft_kernel.hpp, which applies batches with state::apply_operations.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_dump.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::netlink {

class NftKernel {
 public:
  virtual ~NftKernel() = default;
  // The owned tables that exist (see dump_tables). Throws NetlinkError.
  virtual ObservedRuleset dump(const std::vector<state::OwnedTable>& owned,
                               const state::Ruleset& expected) = 0;
  // One atomic batch; with `generation`, refused with ERESTART when the ruleset is at
  // another. Throws NetlinkError naming the message the kernel refused.
  virtual void commit(const std::vector<state::NftOperation>& operations,
                      std::optional<std::uint32_t> generation) = 0;
  virtual std::uint32_t portid() const = 0;
};

class NetlinkNftKernel final : public NftKernel {
 public:
  // `socket` must outlive this; see NftTableSync for what it must not be subscribed to.
  explicit NetlinkNftKernel(NfnlSocket& socket) : socket_(socket) {}

  ObservedRuleset dump(const std::vector<state::OwnedTable>& owned,
                       const state::Ruleset& expected) override;
  void commit(const std::vector<state::NftOperation>& operations,
              std::optional<std::uint32_t> generation) override;
  std::uint32_t portid() const override { return socket_.portid(); }

 private:
  NfnlSocket& socket_;
};

}  // namespace fnft::netlink
