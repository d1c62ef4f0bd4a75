// Keeps some nftables tables (the nftables mode's `table ip flannel-nftd-ipv4` and `table ip6
// flannel-nftd-ipv6`) exactly as desired over one netlink socket: dump, plan, and one atomic batch
// conditional on the generation it was planned from. Synchronous: the kernel answers inside
// the syscalls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netlink/netlink_error.hpp"
#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_dump.hpp"
#include "netlink/nft_kernel.hpp"
#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::netlink {

struct ApplyResult {
  std::vector<state::NftOperation> applied;  // empty when the kernel already held `desired`
  // The generation the plan was made from, and the one our commit made, when known: under
  // heavy churn elsewhere the ruleset never holds still long enough to name one.
  std::optional<std::uint32_t> generation_before;
  std::optional<std::uint32_t> generation_after;
  bool committed = false;
  int attempts = 1;  // dump-plan-commit cycles; > 1 when a commit met ERESTART
  // Why the plan does more than state::plan_nft_changes asked for, one line each, for the log
  // (e.g. a table re-created because it had upstream flanneld's table comment).
  std::vector<std::string> notes;
  // The families whose batch the kernel refused (or whose table another process owns) while
  // another family's landed; each family is its own batch. When nothing landed, the first
  // failure is thrown instead.
  std::vector<NetlinkError> failures;
};

// " (generation 41 -> 42)", " (generation 41)" or "" when not known, for messages.
std::string generation_text(const ApplyResult& result);

class NftTableSync {
 public:
  // The nftables mode's table names in their families.
  static std::vector<state::OwnedTable> default_owned_tables();

  // `socket` must outlive the backend and must not be subscribed to multicast groups (use a
  // second socket for the monitor); its portid() is what our own commits carry.
  explicit NftTableSync(NfnlSocket& socket,
                        std::vector<state::OwnedTable> owned = default_owned_tables());
  // The same over another kernel (a fake, in unit tests); `kernel` must outlive this.
  explicit NftTableSync(NftKernel& kernel,
                        std::vector<state::OwnedTable> owned = default_owned_tables());

  // Dump, plan (state::plan_table_sync), and commit the plan as one batch per family,
  // conditional on the dump's generation; on ERESTART (someone committed in between) start
  // over, at most 5 times. A table another process owns (`flags owner`) is left out, and so
  // is a family whose batch the kernel refuses: see ApplyResult::failures. Throws
  // NetlinkError.
  ApplyResult apply(const state::Ruleset& desired);
  // The same for some of the owned tables only (those a foreign commit touched): the others
  // are neither read nor changed, which makes a repair cheaper.
  // `devices_as_found`: see state::plan_table_sync.
  ApplyResult apply(const state::Ruleset& desired, const std::vector<state::OwnedTable>& scope,
                    const std::vector<std::string>& devices_as_found = {});

  // The repair of a foreign commit whose result is known without reading it back: `known` is
  // the owned tables at `generation` (the commit's own). Plans from it and commits at once,
  // conditional on that generation; throws NetlinkError (ERESTART when anything committed
  // since: the caller then reads the tables as usual).
  ApplyResult apply_known(const state::Ruleset& desired, const state::Ruleset& known,
                          std::uint32_t generation, const std::vector<state::OwnedTable>& scope);

  // The owned tables as the kernel holds them (chains in kernel order; see order_chains_like).
  // `expected` names the chains that must not be missed (see dump_tables).
  state::Ruleset observe(const state::Ruleset& expected = {});
  // The same with the generation it is and what the model cannot hold.
  ObservedRuleset read(const state::Ruleset& expected = {});

  // Deletes every owned table that exists, one batch per family; returns what it deleted.
  ApplyResult cleanup();

  // Dumps the owned tables, asks the pure `plan` what to change and commits it in one batch,
  // with apply()'s retries, leaving out tables another process owns. For tables that are not
  // ours to keep but to take things out of (flanneld's). `what` names it in errors.
  using Plan = std::function<std::vector<state::NftOperation>(const state::Ruleset& observed)>;
  ApplyResult apply_plan(const Plan& plan, const char* what);

  const std::vector<state::OwnedTable>& owned_tables() const { return owned_; }

 private:
  std::unique_ptr<NetlinkNftKernel> netlink_kernel_;  // when built over a socket
  NftKernel& kernel_;
  std::vector<state::OwnedTable> owned_;
};

}  // namespace fnft::netlink
