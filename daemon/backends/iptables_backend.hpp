// The iptables mode, flannel's default: exactly flanneld's chains (FLANNEL-POSTRTG in nat,
// FLANNEL-FWD in filter) and the jumps to them, ip6tables beside iptables, written by the
// real iptables-nft or iptables-legacy tools, so the kernel holds exactly what those tools
// write and read back (iptables-nft-save never finds a table "incompatible"). Per family one
// `iptables-save`, a pure plan (state/iptables_plan), and, only when something differs, one
// `iptables-restore --noflush --wait` transaction; the tools run on the reactor.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <deque>
#include <memory>

#include "daemon/backends/backend.hpp"
#include "daemon/process/child_spawn.hpp"
#include "netlink/nfnl_socket.hpp"
#include "state/iptables_ruleset.hpp"
#include "state/iptables_variant.hpp"

namespace fnft::daemon {

class IptablesBackend final : public Backend {
 public:
  struct Options {
    state::IptablesVariant which = state::IptablesVariant::nft;
    // iptables-legacy has no events: how often its chains are read (flanneld: 5 s).
    std::chrono::milliseconds poll_period{5000};
  };

  // `socket` asks the kernel whether it masquerades fully-random and, before a cleanup of
  // iptables-nft, whether its tables hold anything of flanneld's.
  IptablesBackend(boost::asio::io_context& io, netlink::NfnlSocket& probe_socket, Options options);

  BackendKind kind() const override;
  std::vector<netlink::WatchedTable> watched() const override;
  std::optional<std::chrono::milliseconds> poll_period() const override;
  void apply(const state::Target& target, const std::vector<state::OwnedTable>& scope,
             Done done) override;
  void observe(const state::Target& target, Observed done) override;
  void cleanup(Done done) override;
  void read_counters(const state::Target& target, Counted done) override;
  bool is_own(const netlink::NftTransaction& transaction) const override;

 private:
  struct Job;
  struct FamilyWork {
    state::Family family;
    state::IptablesRuleset desired;
  };

  std::vector<FamilyWork> work_for(const state::NodeConfig& config,
                                   const std::vector<state::OwnedTable>& scope) const;
  // Saves, plans and (unless the job only observes) restores each family in turn.
  void next_family(const std::shared_ptr<Job>& job);
  void restore_family(const std::shared_ptr<Job>& job, const std::vector<std::string>& changes,
                      const std::string& payload, bool nat_changed);
  void finish(const std::shared_ptr<Job>& job);
  // --random-fully where both the restore tool and the kernel take it; asked once.
  void probe_fully_random(std::function<void()> then);
  void run_tool(const std::vector<std::string>& argv, std::string input,
                std::function<void(ChildResult)> done);
  void run_tool(const std::vector<std::string>& argv, std::string input,
                std::chrono::milliseconds timeout, std::function<void(ChildResult)> done);

  boost::asio::io_context& io_;
  netlink::NfnlSocket& probe_socket_;
  Options options_;
  std::optional<bool> fully_random_;
  std::string fully_random_note_;  // why not, said once
  // Our last restores: their commits reach the event socket as anyone else's would.
  std::deque<pid_t> own_pids_;
};

}  // namespace fnft::daemon
