// The kernel's connection tracking table over ctnetlink (libnetfilter_conntrack, on a socket
// of its own): the entries a repair must reset, found and deleted.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "state/conntrack_repair.hpp"

struct nfct_handle;

namespace fnft::netlink {

class ConntrackTable {
 public:
  // Throws NetlinkError when ctnetlink cannot be opened (nf_conntrack_netlink not loaded and
  // not loadable, or no CAP_NET_ADMIN).
  ConntrackTable();
  ~ConntrackTable();
  ConntrackTable(const ConntrackTable&) = delete;
  ConntrackTable& operator=(const ConntrackTable&) = delete;

  struct Reset {
    std::size_t examined = 0;  // entries the dump returned
    std::size_t deleted = 0;   // of them, deleted (one already gone counts as deleted)
  };

  // Dumps `family`'s entries that carry no NAT and never saw a reply, and deletes those
  // `reset_if` holds for. The kernel filters by status (CTA_STATUS with CTA_STATUS_MASK) where
  // it can; one without that filter ignores it and returns every entry of the family, which
  // the same status test here and `reset_if` still judge. Throws NetlinkError.
  using Predicate = std::function<bool(const state::ConntrackEntry&)>;
  Reset reset(state::Family family, const Predicate& reset_if);
  // The same dump, deleting nothing: how many entries `reset_if` holds for (`doctor`).
  std::size_t count(state::Family family, const Predicate& reset_if);

 private:
  struct Matches;
  Matches dump(state::Family family, const Predicate& reset_if);

  struct Close {
    void operator()(nfct_handle* handle) const;
  };
  std::unique_ptr<nfct_handle, Close> handle_;
};

}  // namespace fnft::netlink
