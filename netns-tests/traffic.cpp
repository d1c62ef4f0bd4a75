#include "netns-tests/traffic.hpp"

namespace fnft::netns_test {

std::string to_string(Protocol protocol) {
  return protocol == Protocol::udp ? "UDP" : "TCP";
}

std::vector<std::string> probe(std::vector<std::string> args) {
  args.insert(args.begin(), FNFT_PROBE_BINARY);
  return args;
}

std::string SourceSeen::describe() const {
  return "server saw: " + source.value_or("(nothing)") + "\n" + server.describe() +
         client.describe();
}

SourceSeen source_seen_by_server(const FlannelNode& node, Protocol protocol,
                                 const std::string& client_ns, const std::string& server_ns,
                                 const std::string& server_address, int port,
                                 std::chrono::seconds wait) {
  const std::string port_text = std::to_string(port);
  const std::string timeout = std::to_string(wait.count());
  const bool udp = protocol == Protocol::udp;
  BackgroundProcess server = node.spawn_in(
      server_ns,
      probe({udp ? "serve-udp" : "serve-tcp", server_address, port_text, "--timeout", timeout}));
  SourceSeen seen;
  // The client starts only once the server is bound, so an early datagram is never the
  // reason nothing arrived.
  if (!server.wait_for_stderr("ready", 5s)) {
    seen.server = server.finish(1s);
    return seen;
  }
  seen.client = node.run_in(client_ns, probe({udp ? "send-udp" : "connect-tcp", server_address,
                                              port_text, "--timeout", timeout}));
  seen.server = server.finish(wait + 2s);
  const std::string& out = seen.server.out;
  if (!out.empty()) seen.source = out.substr(0, out.find('\n'));
  return seen;
}

RunResult ping(const FlannelNode& node, const std::string& from_ns, const std::string& address) {
  return node.run_in(from_ns, probe({"ping", address, "--count", "1", "--timeout", "2"}));
}

}  // namespace fnft::netns_test
