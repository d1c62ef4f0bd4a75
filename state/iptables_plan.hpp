// The difference between what iptables holds and flanneld's rules, as ONE iptables-restore
// --noflush payload per family. Pure: the caller runs iptables-save and iptables-restore.
// Applying, repairing and cleaning up are the same plan: cleanup is the plan for a ruleset
// that wants nothing.
#pragma once

#include <string>
#include <vector>

#include "state/iptables_ruleset.hpp"
#include "state/iptables_save.hpp"

namespace fnft::state {

struct IptablesPlan {
  // iptables-restore --noflush input, one *table ... COMMIT block per table that changes;
  // empty when iptables already holds exactly `desired`.
  std::string restore_payload;
  // What changes, one line each, for the log: "nat: rewrite chain FLANNEL-POSTRTG (6 rules)",
  // "nat: add -A POSTROUTING ...", "filter: delete -A FORWARD ... (a duplicate)".
  std::vector<std::string> changes;
  // The nat table changes: flanneld's masquerade rules (FLANNEL-POSTRTG and its jump).
  bool nat_changed = false;

  bool empty() const { return restore_payload.empty(); }
};

// `observed` is one family's iptables-save output; `desired` that family's rules (with no
// tables: remove everything of flanneld's). Per table:
//  - our chain (FLANNEL-POSTRTG in nat, FLANNEL-FWD in filter) holds exactly the desired
//    rules in order, else it is rewritten: declared (which flushes it) and refilled in the
//    same transaction, so foreign, missing, altered, duplicated and reordered rules all go;
//  - the jump from the built-in chain exists exactly once: added (appended, as flanneld
//    does) when missing, duplicates deleted. Where it stands among the other rules of
//    POSTROUTING/FORWARD is left as it is: kube-proxy and Calico put their own jumps first,
//    and moving ours to the end would put it after an admin's trailing DROP;
//  - any other rule that jumps to one of our chains, or carries flanneld's comment
//    ("flanneld masq", "flanneld forward": older flanneld put its rules straight into
//    POSTROUTING), is deleted: our chains are entered from one place only;
//  - our chains that `desired` does not want, in any table (upstream's cleanup leaves
//    FLANNEL-FWD in filter), lose their jumps and are flushed and deleted.
// Nothing else is touched: kube-proxy's, Docker's and Calico's rules stay as they are.
IptablesPlan plan_iptables_changes(const IptablesRuleset& desired, const IptablesSave& observed);

}  // namespace fnft::state
