// The three backends over the daemon's one command socket: the active one keeps the rules,
// the others are what a mode switch (or `cleanup`) removes every trace of.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <functional>

#include "daemon/iptables_backend.hpp"
#include "daemon/nftables_backend.hpp"

namespace fnft::daemon {

class BackendSet {
 public:
  static constexpr std::array kAll = {BackendKind::nftables, BackendKind::iptables_nft,
                                      BackendKind::iptables_legacy};

  BackendSet(boost::asio::io_context& io, netlink::NfnlSocket& socket,
             std::chrono::milliseconds iptables_legacy_poll);

  Backend& of(BackendKind kind);
  // Whether any of them committed the transaction.
  bool is_own(const netlink::NftTransaction& transaction) const;

  using Report = std::function<void(BackendKind, const BackendResult&)>;
  // Runs the cleanup of each backend in `kinds`, one after another, reporting each; then
  // `done`.
  void clean(std::vector<BackendKind> kinds, Report report, std::function<void()> done);
  // The same for every backend but `active`.
  void clean_all_but(BackendKind active, Report report, std::function<void()> done);

 private:
  NftablesBackend nftables_;
  IptablesBackend iptables_nft_;
  IptablesBackend iptables_legacy_;
};

}  // namespace fnft::daemon
