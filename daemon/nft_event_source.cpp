#include "daemon/nft_event_source.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "netlink/netlink_error.hpp"

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

}  // namespace

NftEventSource::NftEventSource(boost::asio::io_context& io, std::vector<state::OwnedTable> owned,
                               Handlers handlers)
    : socket_(event_socket_options()),
      readable_(io),
      assembler_(std::move(owned)),
      handlers_(std::move(handlers)) {
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
  for (;;) {
    std::span<const std::byte> datagram;
    try {
      datagram = socket_.receive_now("nf_tables events");
    } catch (const netlink::NetlinkError& error) {
      if (error.error_code() != ENOBUFS) throw;
      ++overruns_;
      assembler_.reset();
      completed.clear();
      handlers_.overrun();
      continue;
    }
    if (datagram.empty()) break;
    const auto* message = reinterpret_cast<const nlmsghdr*>(datagram.data());
    auto remaining = static_cast<int>(datagram.size());
    for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      if (auto transaction = assembler_.feed(message)) completed.push_back(std::move(*transaction));
    }
  }
  if (!completed.empty()) handlers_.transactions(std::move(completed));
}

}  // namespace fnft::daemon
