// A planned state::NftOperation as the netlink message that performs it.
#pragma once

#include "netlink/nft_batch.hpp"
#include "state/nft_plan.hpp"

namespace fnft::netlink {

// Appends the message for `operation` to `batch`, described by state::describe(operation).
// Throws std::invalid_argument for a rule that cannot be encoded.
void add_operation(NftBatch& batch, const state::NftOperation& operation);

}  // namespace fnft::netlink
