#include "daemon/core/nft_event_source.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <optional>

#include "netlink/netlink_error.hpp"
#include "netlink/netlink_messages.hpp"

namespace fnft::daemon {
namespace {

netlink::NfnlSocketOptions event_socket_options() {
  netlink::NfnlSocketOptions options;
  options.non_blocking = true;
  // Room for a burst of foreign commits while a repair runs; beyond it ENOBUFS triggers a
  // full resync, which is correct, only slower.
  options.buffer_bytes = 8 << 20;
  return options;
}

// Foreign datagrams are reported at most this often (with how many there were).
constexpr std::chrono::seconds kForeignReportPeriod{60};

}  // namespace

NftEventSource::NftEventSource(boost::asio::io_context& io, Handlers handlers)
    : socket_(event_socket_options()), readable_(io), handlers_(std::move(handlers)) {
  socket_.subscribe(NFNLGRP_NFTABLES);
  readable_.assign(socket_.fd());
}

NftEventSource::~NftEventSource() {
  // socket_ closes the fd; Asio must not close it too.
  readable_.release();
}

void NftEventSource::wait_readable() {
  readable_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& error) {
                         if (error) return;
                         drain();
                         wait_readable();
                       });
}

void NftEventSource::drain() {
  std::vector<netlink::NftTransaction> completed;
  std::vector<netlink::NftTransaction> neighbours;
  std::optional<std::string> lost;
  for (bool more = true; more;) {
    std::span<const std::byte> datagram;
    try {
      datagram = socket_.receive_now("nf_tables events");
    } catch (const netlink::NetlinkError& error) {
      // No receive error ends the reactor: whatever was half assembled is dropped and the
      // tables are read again, which is always correct, only slower.
      assembler_.reset();
      neighbour_assembler_.reset();
      completed.clear();
      neighbours.clear();
      if (error.error_code() == ENOBUFS) {
        ++overruns_;
        lost = "lost nf_tables events (socket overrun)";
        continue;
      }
      ++receive_errors_;
      spdlog::warn("nf_tables event socket: {}; re-reading the flannel tables", error.what());
      lost = "nf_tables event socket error";
      // A datagram cut short is consumed and the next one is fine; anything else might
      // repeat, so wait for the socket to be readable again rather than spin here.
      more = error.error_code() == EMSGSIZE;
      continue;
    }
    if (datagram.empty()) break;
    netlink::NetlinkMessages messages(datagram);
    while (const nlmsghdr* message = messages.next()) {
      if (auto transaction = assembler_.feed(message)) completed.push_back(std::move(*transaction));
      if (auto transaction = neighbour_assembler_.feed(message);
          transaction && transaction->touched_owned)
        neighbours.push_back(std::move(*transaction));
    }
  }
  report_foreign_datagrams();
  if (lost) handlers_.overrun(*lost);
  if (!completed.empty()) handlers_.transactions(std::move(completed));
  if (!neighbours.empty() && handlers_.neighbour_transactions)
    handlers_.neighbour_transactions(std::move(neighbours));
}

void NftEventSource::report_foreign_datagrams() {
  const std::uint64_t dropped = socket_.foreign_datagrams();
  if (dropped == reported_foreign_datagrams_) return;
  const auto now = std::chrono::steady_clock::now();
  if (last_foreign_report_ && now - *last_foreign_report_ < kForeignReportPeriod) return;
  spdlog::warn(
      "dropped {} netlink datagram(s) on the nf_tables event socket that the kernel did not "
      "send (last from netlink port {}, a process in this network namespace with "
      "CAP_NET_ADMIN): only the kernel's messages are believed",
      dropped - reported_foreign_datagrams_, socket_.last_foreign_portid());
  reported_foreign_datagrams_ = dropped;
  last_foreign_report_ = now;
}
}  // namespace fnft::daemon
