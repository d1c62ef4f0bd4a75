#include "daemon/backends/backend.hpp"

namespace fnft::daemon {

std::string_view to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::nftables: return "nftables";
    case BackendKind::iptables_nft: return "iptables-nft";
    case BackendKind::iptables_legacy: return "iptables-legacy";
  }
  return "?";
}

}  // namespace fnft::daemon
