// Decoding of nf_tables multicast events (NFNLGRP_NFTABLES) into transactions: which tables
// a commit touched, and who committed it. Only the few attributes needed are read, so a
// transaction on someone else's table costs a decode and nothing else.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/known_ruleset.hpp"
#include "state/nft_plan.hpp"

namespace fnft::netlink {

// One committed nf_tables transaction, complete once its NEWGEN arrived.
struct NftTransaction {
  std::uint32_t generation = 0;
  std::uint32_t portid = 0;          // netlink port of the committing socket (ours: ignore)
  std::uint32_t pid = 0;             // committing process (NFTA_GEN_PROC_PID)
  std::string process_name;          // NFTA_GEN_PROC_NAME
  std::size_t message_count = 0;     // object events before the NEWGEN
  bool touched_owned = false;        // a watched object, or an event we could not attribute
  std::vector<std::string> touched;  // "delrule ip flannel-nftd-ipv4 postrtg", watched objects only
  // The watched tables it touched, each once; empty with touched_owned set means "could not
  // tell which" (an event type we do not know).
  std::vector<state::OwnedTable> touched_tables;
  // What it removed from watched objects, in order, while it did nothing else to them;
  // `only_deletions` false once it added, changed or did something we cannot read to one.
  std::vector<state::Deletion> deletions;
  bool only_deletions = true;
};

// An nf_tables table whose changes matter to us: all of it (`chains` empty: the nftables
// mode's own tables), or only some of its chains, the table itself, and any rule added
// elsewhere in it that jumps to one of them (iptables-nft's `nat` and `filter`, where
// kube-proxy's and Docker's chains live beside ours). A chain name ending in '*' stands for
// every chain whose name starts with what precedes it ("CNI-*").
struct WatchedTable {
  state::Family family = state::Family::ipv4;
  std::string table;
  std::vector<std::string> chains;
  friend bool operator==(const WatchedTable&, const WatchedTable&) = default;
};

class NftEventAssembler {
 public:
  explicit NftEventAssembler(std::vector<WatchedTable> watched = {});

  // What counts from the next message on (a mode switch); a half-assembled transaction is
  // judged by the new set.
  void set_watched(std::vector<WatchedTable> watched) { watched_ = std::move(watched); }

  // Feeds one netlink message from the event socket; returns the transaction it completes.
  std::optional<NftTransaction> feed(const nlmsghdr* message);
  // Events were lost (ENOBUFS): whatever was half-assembled is unreliable.
  void reset() { pending_ = {}; }

 private:
  // The watched table of `nfproto` named `table`, if an event on `chain` of it ("" for an
  // object that belongs to no chain) matters; `table_level`: an event on the table itself.
  std::optional<state::OwnedTable> watched(std::uint8_t nfproto, const std::string& table,
                                           const std::string& chain, bool table_level) const;

  std::vector<WatchedTable> watched_;
  NftTransaction pending_;
};

}  // namespace fnft::netlink
