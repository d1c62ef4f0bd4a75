// The nftables mode: `table ip flannel-nftd-ipv4` and `table ip6 flannel-nftd-ipv6`, kept by
// netlink::NftTableSync over the daemon's long-lived command socket. It also takes flanneld's
// own nftables rules out of flanneld's tables once ours replace them, in either mode.
#pragma once

#include "daemon/backends/backend.hpp"
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
  // Our tables, and those an earlier flannel-nftd left under flanneld's names.
  void cleanup(Done done) override;
  void read_counters(const state::Target& target, Counted done) override;
  bool is_own(const netlink::NftTransaction& transaction) const override;
  void note_transaction(const netlink::NftTransaction& transaction) override;
  void forget_known_state() override { known_.reset(); }

  // flanneld's own tables (`ip flannel-ipv4`, `ip6 flannel-ipv6`): a change to them is no
  // change to our rules, but may be flanneld writing its masquerade beside ours.
  std::vector<netlink::WatchedTable> flanneld_watched() const;
  // Takes out of flanneld's tables the chains that the rules of `config` replace
  // (state::plan_flanneld_rules_removal).
  void remove_flanneld_rules(const state::NodeConfig& config, Done done);

 private:
  // Reads the tables again after a commit of ours, so the next foreign commit finds them
  // known; forgets them when that read cannot say which generation it is.
  void refresh_known(const state::Ruleset& expected);
  // The commit planned straight from what is known; nullopt when that plan is empty (then
  // the usual way reads the tables to be sure).
  std::optional<BackendResult> apply_from_known(const state::Ruleset& desired,
                                                const std::vector<state::OwnedTable>& scope);
  // Whether the tables as last read are exactly `desired`.
  bool known_matches(const state::Ruleset& desired) const;

  netlink::NfnlSocket& socket_;
  netlink::NftTableSync tables_;
  netlink::NftTableSync flanneld_tables_;
  // Our tables as of generation known_generation_: the last read, minus what foreign commits
  // deleted since (state::apply_deletion). Absent when a commit did anything else to them.
  std::optional<state::Ruleset> known_;
  std::uint32_t known_generation_ = 0;
};

}  // namespace fnft::daemon
