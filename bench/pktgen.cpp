#include "bench/pktgen.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "testkit/network_namespace.hpp"

namespace fnft::bench {
namespace {

// pktgen takes one command per write(), ending in a newline as echo(1) writes it (pgctrl
// drops the last byte unseen).
void command(const std::string& file, const std::string& words) {
  const std::string text = words + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("pktgen: cannot open " + file + ": " + std::strerror(errno) +
                             " (a kernel with CONFIG_NET_PKTGEN is needed)");
  }
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    throw std::runtime_error("pktgen: `" + words + "` > " + file + ": " + std::strerror(error));
  }
}

}  // namespace

double pktgen_send(const std::string& ns, const PktgenFlow& flow, long count) {
  const testkit::InNamespace inside(ns);
  const std::string root = "/proc/thread-self/net/pktgen/";
  command(root + "kpktgend_0", "rem_device_all");
  command(root + "kpktgend_0", "add_device " + flow.device);
  const std::string device = root + flow.device;
  for (const std::string& setting :
       {"count " + std::to_string(count), std::string("clone_skb 0"),
        "pkt_size " + std::to_string(flow.frame_bytes), std::string("delay 0"),
        "src_min " + flow.source, "src_max " + flow.source, "dst " + flow.destination,
        "dst_mac " + flow.next_hop_mac, "udp_src_min " + std::to_string(flow.source_port),
        "udp_src_max " + std::to_string(flow.source_port),
        "udp_dst_min " + std::to_string(flow.destination_port),
        "udp_dst_max " + std::to_string(flow.destination_port)}) {
    command(device, setting);
  }
  command(root + "pgctrl", "start");  // returns when the last frame is sent
  std::ifstream in(device);
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex result(R"(Result: OK: (\d+)\()");
  std::smatch match;
  const std::string report = text.str();
  if (!std::regex_search(report, match, result)) {
    throw std::runtime_error("pktgen on " + flow.device + " did not say OK:\n" + report);
  }
  return std::stod(match[1].str());
}

}  // namespace fnft::bench
