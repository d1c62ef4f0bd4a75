// The ways of loading flannel's full dual-stack ruleset that bench/apply compares: in
// process on a netlink socket, and the processes the other systems run per change.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netlink/nft_table_sync.hpp"
#include "state/config.hpp"
#include "state/ruleset.hpp"

namespace fnft::bench {

// `prepare` brings the kernel to the starting state, `run` loads the ruleset (the timed
// part, call to return) and `teardown` removes it again, so that no method ever runs with
// another method's rules in the kernel (nft's own cache fill grows with what is there).
struct ApplyMethod {
  std::string id;  // for --methods
  std::string name;
  std::string how;
  std::function<void()> prepare;
  std::function<void()> run;
  std::function<void()> teardown;
  bool loads_nft_text = false;  // checked after warm-up against the in-process result
};

struct ApplyInputs {
  netlink::NfnlSocket& socket;  // the one `backend` commits on
  netlink::NftTableSync& backend;
  state::NodeConfig config;
  state::Ruleset desired;
};

// Returns once the kernel has finished freeing what earlier commits removed. nf_tables frees
// deleted objects from a work item after an RCU grace period, and the release of any bound
// NETLINK_NETFILTER socket waits for that work (nft_rcv_nl_event): a process that exits
// right after such a commit (every `nft` and `iptables-nft-restore` does) pays the grace
// period at exit. Called untimed after each `prepare`, so that no method pays for the
// previous step's deletions; a long-lived socket, like the daemon's, never pays it.
void wait_for_deferred_nftables_work();

// Every method this machine can run; the ones it cannot (a kernel without x_tables for the
// legacy tools, a missing binary) are left out with the reason appended to `skipped`.
// `inputs` must outlive the methods.
std::vector<ApplyMethod> apply_methods(const ApplyInputs& inputs,
                                       std::vector<std::string>& skipped);

}  // namespace fnft::bench
