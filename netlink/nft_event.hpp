// Decoding of nf_tables multicast events (NFNLGRP_NFTABLES) into transactions: which tables
// a commit touched, and who committed it. Only the few attributes needed are read, so a
// transaction on someone else's table costs a decode and nothing else.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/nft_plan.hpp"

namespace fnft::netlink {

// One committed nf_tables transaction, complete once its NEWGEN arrived.
struct NftTransaction {
  std::uint32_t generation = 0;
  std::uint32_t portid = 0;          // netlink port of the committing socket (ours: ignore)
  std::uint32_t pid = 0;             // committing process (NFTA_GEN_PROC_PID)
  std::string process_name;          // NFTA_GEN_PROC_NAME
  std::size_t message_count = 0;     // object events before the NEWGEN
  bool touched_owned = false;        // an owned table, or an event we could not attribute
  std::vector<std::string> touched;  // "delrule ip flannel-ipv4 postrtg", owned objects only
  // The owned tables it touched, each once; empty with touched_owned set means "could not
  // tell which" (an event type we do not know).
  std::vector<state::OwnedTable> touched_tables;
};

class NftEventAssembler {
 public:
  explicit NftEventAssembler(std::vector<state::OwnedTable> owned);

  // Feeds one netlink message from the event socket; returns the transaction it completes.
  std::optional<NftTransaction> feed(const nlmsghdr* message);
  // Events were lost (ENOBUFS): whatever was half-assembled is unreliable.
  void reset() { pending_ = {}; }

 private:
  // The owned table `table` of netfilter family `nfproto` names, if it is one of ours.
  std::optional<state::OwnedTable> owned(std::uint8_t nfproto, const std::string& table) const;

  std::vector<state::OwnedTable> owned_;
  NftTransaction pending_;
};

}  // namespace fnft::netlink
