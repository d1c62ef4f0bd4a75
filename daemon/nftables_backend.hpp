// The nftables mode: `table ip flannel-ipv4` and `table ip6 flannel-ipv6`, kept by
// netlink::NftTableSync over the daemon's long-lived command socket.
#pragma once

#include "daemon/backend.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_table_sync.hpp"

namespace fnft::daemon {

class NftablesBackend final : public Backend {
 public:
  // `socket` must outlive the backend and must not be subscribed to any multicast group.
  explicit NftablesBackend(netlink::NfnlSocket& socket);

  BackendKind kind() const override { return BackendKind::nftables; }
  std::vector<netlink::WatchedTable> watched() const override;
  std::optional<std::chrono::milliseconds> poll_period() const override { return std::nullopt; }
  void apply(const state::Target& target, const std::vector<state::OwnedTable>& scope,
             Done done) override;
  void observe(const state::Target& target, Observed done) override;
  void cleanup(Done done) override;
  bool is_own(const netlink::NftTransaction& transaction) const override;

 private:
  netlink::NfnlSocket& socket_;
  netlink::NftTableSync tables_;
};

}  // namespace fnft::daemon
