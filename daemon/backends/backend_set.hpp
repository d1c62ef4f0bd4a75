// The three backends over the daemon's one command socket: the active one keeps the rules,
// the others are what a mode switch (or `cleanup`) removes every trace of. flanneld's own
// nftables rules are one more such trace: whatever the mode, ours replace them.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "daemon/backends/iptables_backend.hpp"
#include "daemon/backends/nftables_backend.hpp"

namespace fnft::daemon {

// Whose rules a cleanup removed, for the messages that report it.
struct RemovedRules {
  std::string whose;  // "the iptables-nft mode's", "flanneld's own nftables"
  std::string where;  // "iptables-nft", "flanneld": the tag of `cleanup`'s lines
  // The `cleanup --mode=` that removes them when this attempt failed; "" where `cleanup`
  // does not (flanneld's rules are flanneld's: only the daemon replacing them takes them).
  std::string cleanup_mode;
};
// flanneld's rules in flanneld's own nftables tables.
inline RemovedRules flanneld_removed_rules() {
  return {"flanneld's own nftables", "flanneld", ""};
}

class BackendSet {
 public:
  static constexpr std::array kAll = {BackendKind::nftables, BackendKind::iptables_nft,
                                      BackendKind::iptables_legacy};

  BackendSet(boost::asio::io_context& io, netlink::NfnlSocket& socket,
             std::chrono::milliseconds iptables_legacy_poll);

  Backend& of(BackendKind kind);
  NftablesBackend& nftables() { return nftables_; }
  // Whether any of them committed the transaction.
  bool is_own(const netlink::NftTransaction& transaction) const;

  using Report = std::function<void(const RemovedRules&, const BackendResult&)>;
  // Runs the cleanup of each backend in `kinds`, one after another, reporting each; then
  // `done`.
  void clean(std::vector<BackendKind> kinds, Report report, std::function<void()> done);
  // The same for every backend but `active`, then flanneld's own nftables rules that the
  // rules of `config` replace.
  void clean_all_but(BackendKind active, const state::NodeConfig& config, Report report,
                     std::function<void()> done);

 private:
  NftablesBackend nftables_;
  IptablesBackend iptables_nft_;
  IptablesBackend iptables_legacy_;
};

}  // namespace fnft::daemon
