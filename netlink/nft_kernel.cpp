#include "netlink/nft_kernel.hpp"

#include "netlink/detail/nft_operations.hpp"
#include "netlink/nft_batch.hpp"

namespace fnft::netlink {

ObservedRuleset NetlinkNftKernel::dump(const std::vector<state::OwnedTable>& owned,
                                       const state::Ruleset& expected) {
  return dump_tables(socket_, owned, expected);
}

void NetlinkNftKernel::commit(const std::vector<state::NftOperation>& operations,
                              std::optional<std::uint32_t> generation) {
  NftBatch batch(generation);
  for (const auto& operation : operations) add_operation(batch, operation);
  batch.send(socket_);
}

}  // namespace fnft::netlink
