// Which connections met a window without masquerade: while another process's change had
// removed our postrouting rules (and until the repair commit), a connection whose first
// packet left the node got a conntrack entry without source NAT, and the entry keeps it that
// way until it expires (UDP 30 s unreplied, a TCP SYN_SENT 120 s). Deleting such an entry
// makes the flow's next packet (a datagram, a SYN retransmit) a new connection, masqueraded.
//
// The decision evaluates the desired ruleset as data on what the postrouting hook saw of the
// connection's first packet, so it can only reset what the rules now in force would have
// masqueraded. Pure: the daemon reads the entries over ctnetlink.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "state/nft_plan.hpp"
#include "state/ruleset.hpp"

namespace fnft::state {

// One conntrack entry, as far as the decision needs it.
struct ConntrackEntry {
  Family family = Family::ipv4;
  // The first packet's source (the original tuple's) and its destination as postrouting saw
  // it: after any DNAT, i.e. the reply tuple's source. Network byte order, 4 or 16 bytes.
  std::array<std::uint8_t, 16> source{};
  std::array<std::uint8_t, 16> destination{};
  std::uint32_t mark = 0;        // the connection's mark (ct mark)
  bool source_nat = false;       // IPS_SRC_NAT: it was masqueraded (or SNATed)
  bool destination_nat = false;  // IPS_DST_NAT: a service's DNAT (kube-proxy's)
  bool seen_reply = false;       // IPS_SEEN_REPLY: an answer came back
};

enum class PostroutingVerdict : std::uint8_t {
  masquerade,  // a rule masquerades it
  left_alone,  // a rule returns or accepts it, or none matches (policy accept)
  unknown,     // a rule the evaluation cannot judge (a foreign expression, a jump)
};

// What the nat postrouting chains of `tables` of the entry's family do with a connection's
// first packet of this source, destination and mark (`ct state new`).
PostroutingVerdict postrouting_verdict(const Ruleset& tables, const ConntrackEntry& entry);

// Whether to delete the entry: the rules in force would masquerade it, it carries no source
// NAT, and it is broken rather than merely new to us: never answered. Entries with a
// service's DNAT are left to kube-proxy, whose own rules masquerade what they mean to.
bool missed_masquerade(const Ruleset& tables, const ConntrackEntry& entry);

// Whether a commit of `operations` can have ended such a window: it touched a nat postrouting
// chain of `desired` (a rule added or deleted, the chain flushed or made) or created or
// deleted the table holding one. The others (forward rules, a flowtable's devices as pods
// come and go) leave the conntrack table unread: reading it walks the kernel's whole
// conntrack hash, shared by every network namespace.
bool touches_masquerade(const std::vector<NftOperation>& operations, const Ruleset& desired);

}  // namespace fnft::state
