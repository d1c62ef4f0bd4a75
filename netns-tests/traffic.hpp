// Real packets between the namespaces of a FlannelNode, sent by traffic_probe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netns-tests/testkit.hpp"
#include "testkit/programs.hpp"

namespace fnft::netns_test {

enum class Protocol { udp, tcp };
std::string to_string(Protocol protocol);

// `traffic_probe ARGS...`.
std::vector<std::string> probe(std::vector<std::string> args);

// One exchange as the server saw it.
struct SourceSeen {
  std::optional<std::string> source;  // the peer address the server printed, if anything came
  RunResult server;
  RunResult client;
  std::string describe() const;
};

// Starts a server on `server_address`:`port` in `server_ns`, sends one UDP datagram (or
// makes one TCP connection and round trip) from `client_ns`, and reports the source address
// the server saw. The server gives up after `wait`, so "nothing arrived" costs that long.
SourceSeen source_seen_by_server(const FlannelNode& node, Protocol protocol,
                                 const std::string& client_ns, const std::string& server_ns,
                                 const std::string& server_address, int port,
                                 std::chrono::seconds wait = 5s);

// One ICMP/ICMPv6 echo from `from_ns` to `address`, answered within 2 s or failed.
RunResult ping(const FlannelNode& node, const std::string& from_ns, const std::string& address);

}  // namespace fnft::netns_test
