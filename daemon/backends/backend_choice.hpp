// Which backend keeps the rules: the nftables mode, or the iptables mode through iptables-nft
// or iptables-legacy (`--iptables-backend`, where `auto` decides as kubelet's
// iptables-wrappers do); and, in the iptables mode, the warning about flannel or kube-proxy
// chains in the iptables that is not used.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "daemon/backends/backend.hpp"
#include "daemon/config/options.hpp"
#include "state/config.hpp"

namespace fnft::daemon {

struct ChosenBackend {
  BackendKind kind = BackendKind::nftables;
  std::string reason;                 // "--mode=nftables", "kubelet's KUBE-IPTABLES-HINT ..."
  std::vector<std::string> warnings;  // for the log and wherever the state is reported
};

// Completes at once in the nftables mode; in the iptables mode after reading both iptables
// (state::choose_iptables_variant, state::other_iptables_warning).
void choose_backend(boost::asio::io_context& io, state::Mode mode, const std::string& mode_reason,
                    IptablesBackendOption option, std::function<void(ChosenBackend)> done);

}  // namespace fnft::daemon
