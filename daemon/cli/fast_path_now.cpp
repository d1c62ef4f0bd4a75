#include "daemon/cli/fast_path_now.hpp"

#include <iostream>
#include <stdexcept>

#include "netlink/link_watcher.hpp"
#include "netlink/nft_probe.hpp"
#include "state/fast_path.hpp"

namespace fnft::daemon {

std::optional<state::FastPath> fast_path_now(const FastPathSettings& settings,
                                             netlink::NfnlSocket* socket) {
  if (settings.flowtable == FlowtableOption::off) return std::nullopt;
  state::FastPath fast_path;
  fast_path.counter = true;
  if (socket != nullptr) {
    const netlink::FlowtableSupport support = netlink::probe_flowtables(*socket);
    if (!support.available()) {
      const std::string message =
          "kernel lacks flowtable support (CONFIG_NF_FLOW_TABLE): " + support.unavailable;
      if (settings.flowtable == FlowtableOption::required) {
        throw std::runtime_error(message + "; --flowtable=required");
      }
      std::cerr << "warning: " << message << "; running without the fast path\n";
      return std::nullopt;
    }
    fast_path.counter = support.counter;
  }
  const netlink::LinkWatcher links;
  fast_path.devices =
      state::fast_path_devices(links.links(), links.default_routes(), {settings.cni_bridge});
  return fast_path;
}

}  // namespace fnft::daemon
