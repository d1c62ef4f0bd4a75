// Linux's in-kernel packet generator (/proc/net/pktgen, CONFIG_NET_PKTGEN) in one namespace:
// fixed-size UDP frames from one device, as fast as it takes them, with no socket or
// user-space copy in the way: the per-packet cost of whatever forwards them.
#pragma once

#include <string>

namespace fnft::bench {

struct PktgenFlow {
  std::string device;        // in the namespace pktgen runs in
  std::string source;        // IPv4 source address
  std::string destination;   // IPv4 destination address
  std::string next_hop_mac;  // the destination MAC of the frames (the gateway's)
  int source_port = 0;
  int destination_port = 0;
  int frame_bytes = 64;
};

// Sends `count` frames of `flow` from namespace `ns`; returns how long pktgen took, in
// microseconds. Throws std::runtime_error when pktgen is missing or refuses.
double pktgen_send(const std::string& ns, const PktgenFlow& flow, long count);

}  // namespace fnft::bench
