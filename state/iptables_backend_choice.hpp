// Which iptables a node uses, from what each holds, as kubelet's iptables-wrappers decide it;
// and the warning for rules in the other one (seed 001: rules that look present but that the
// packets never meet, because the kernel runs the other backend's copy). Pure.
#pragma once

#include <string>
#include <vector>

#include "state/iptables_save.hpp"

namespace fnft::state {

enum class IptablesBackend { nft, legacy };

std::string_view to_string(IptablesBackend backend);  // "iptables-nft" / "iptables-legacy"

// What one backend holds: the iptables-save output of each family it could be read for.
struct BackendContents {
  std::vector<IptablesSave> families;
  bool readable = true;  // false: it could not be read at all (say, no permission)
};

struct BackendChoice {
  IptablesBackend backend = IptablesBackend::nft;
  std::string reason;  // "kubelet's KUBE-IPTABLES-HINT chain is in iptables-legacy"
};

// The backend holding kubelet's KUBE-IPTABLES-HINT (newer kubelets) or KUBE-KUBELET-CANARY
// chain, else the one holding more rules, else iptables-nft.
BackendChoice choose_iptables_backend(const BackendContents& nft, const BackendContents& legacy);

// One line naming the flannel (FLANNEL-*) and kube-proxy (KUBE-*) chains that `other` holds,
// by table, when flannel-nftd uses `used`; "" when it holds none.
std::string other_backend_warning(IptablesBackend used, const BackendContents& other);

}  // namespace fnft::state
