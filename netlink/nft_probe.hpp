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

// What the kernel's flowtables can do, each tried in both families.
struct FlowtableSupport {
  // The kernel's answer when it has no flowtables (CONFIG_NF_FLOW_TABLE): "" when it has.
  std::string unavailable;
  bool available() const { return unavailable.empty(); }
  // `flags counter` (NFT_FLOWTABLE_COUNTER, 5.7): conntrack keeps counting offloaded packets.
  bool counter = false;
  // A device that does not exist is accepted by name (6.16): names stay in the flowtable
  // after their device goes, so the daemon prunes them itself.
  bool name_based_hooks = false;
};
// Throws NetlinkError when the kernel refuses for another reason than the feature (EPERM).
FlowtableSupport probe_flowtables(NfnlSocket& socket);

// `flags owner, persist` (NFT_TABLE_F_PERSIST, 6.9): a table only its owner may change that
// outlives it. nullopt when the kernel has it; else its answer in words (EOPNOTSUPP before
// 6.9). Throws NetlinkError when the kernel refuses for another reason (EPERM).
std::optional<std::string> table_protection_refused(NfnlSocket& socket);

// `masquerade fully-random` (NF_NAT_RANGE_PROTO_RANDOM_FULLY) in a nat chain of family ip.
bool kernel_masquerades_fully_random(NfnlSocket& socket);

}  // namespace fnft::netlink
