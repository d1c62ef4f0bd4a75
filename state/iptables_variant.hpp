// Which iptables (iptables-nft or iptables-legacy) a node uses, from what each holds, as kubelet's
// iptables-wrappers decide it; and the warning for rules in the other one (seed 001: rules that
// look present but that the packets never meet, because the kernel runs the other backend's copy).
// Pure.
#pragma once

#include <string>
#include <vector>

#include "state/iptables_save.hpp"

namespace fnft::state {

enum class IptablesVariant { nft, legacy };

std::string_view to_string(IptablesVariant backend);  // "iptables-nft" / "iptables-legacy"

// What one backend holds: the iptables-save output of each family it could be read for.
struct IptablesContents {
  std::vector<IptablesSave> families;
  bool readable = true;  // false: it could not be read at all (say, no permission)
};

struct IptablesVariantChoice {
  IptablesVariant variant = IptablesVariant::nft;
  std::string reason;  // "kubelet's KUBE-IPTABLES-HINT chain is in iptables-legacy"
};

// The backend holding kubelet's KUBE-IPTABLES-HINT (newer kubelets) or KUBE-KUBELET-CANARY
// chain, else the one holding more rules, else iptables-nft.
IptablesVariantChoice choose_iptables_variant(const IptablesContents& nft,
                                              const IptablesContents& legacy);

// One line naming the flannel (FLANNEL-*) and kube-proxy (KUBE-*) chains that `other` holds,
// by table, when flannel-nftd uses `used`; "" when it holds none.
std::string other_iptables_warning(IptablesVariant used, const IptablesContents& other);

}  // namespace fnft::state
