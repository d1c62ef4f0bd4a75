// Kernel features, probed by trying them: the batch that would use one is sent for the
// kernel to check and discard (NftBatch::check), so a probe commits nothing, sends no event
// and moves no generation, whatever the answer. Never by kernel version.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_batch.hpp"

namespace fnft::netlink {

// The name of the table probes build in (never committed).
inline constexpr const char* kProbeTable = "flannel-nftd-probe";

// nullopt when the kernel accepts what `build` puts in a batch; else its error, in words.
std::optional<std::string> kernel_refuses(NfnlSocket& socket,
                                          const std::function<void(NftBatch&)>& build);

// `masquerade fully-random` (NF_NAT_RANGE_PROTO_RANDOM_FULLY) in a nat chain of family ip.
bool kernel_masquerades_fully_random(NfnlSocket& socket);

}  // namespace fnft::netlink
