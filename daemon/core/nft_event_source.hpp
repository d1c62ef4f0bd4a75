// The nf_tables event stream on the reactor: a socket subscribed to NFNLGRP_NFTABLES, read
// whenever Asio says it is readable, decoded into whole transactions.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netlink/nfnl_socket.hpp"
#include "netlink/nft_event.hpp"

namespace fnft::daemon {

class NftEventSource {
 public:
  struct Handlers {
    // Every transaction that completed in one read burst, so that a burst costs one repair.
    std::function<void(std::vector<netlink::NftTransaction>)> transactions;
    // Events were lost (ENOBUFS) or could not be read: the caller must re-read the whole
    // state. The argument says why.
    std::function<void(const std::string& why)> overrun;
    // The transactions that touched a neighbour's watched tables (set_neighbours_watched):
    // no change to our rules, but one the daemon answers (flanneld writing its masquerade).
    std::function<void(std::vector<netlink::NftTransaction>)> neighbour_transactions;
  };

  // Subscribes at construction, so that a dump taken afterwards misses nothing.
  NftEventSource(boost::asio::io_context& io, Handlers handlers);
  ~NftEventSource();
  NftEventSource(const NftEventSource&) = delete;
  NftEventSource& operator=(const NftEventSource&) = delete;

  void start() { wait_readable(); }
  // What counts as a change to our rules (the active backend's watched objects).
  void set_watched(std::vector<netlink::WatchedTable> watched) {
    assembler_.set_watched(std::move(watched));
  }
  // Other processes' tables whose changes the daemon answers (flanneld's own tables).
  void set_neighbours_watched(std::vector<netlink::WatchedTable> watched) {
    neighbour_assembler_.set_watched(std::move(watched));
  }
  std::uint64_t overruns() const { return overruns_; }
  std::uint64_t receive_errors() const { return receive_errors_; }
  // Datagrams dropped because a process, not the kernel, sent them.
  std::uint64_t foreign_datagrams() const { return socket_.foreign_datagrams(); }

 private:
  void wait_readable();
  void drain();
  void report_foreign_datagrams();

  netlink::NfnlSocket socket_;
  // Waits on socket_'s fd without owning it (released in the destructor).
  boost::asio::posix::stream_descriptor readable_;
  netlink::NftEventAssembler assembler_;
  netlink::NftEventAssembler neighbour_assembler_;
  Handlers handlers_;
  std::uint64_t overruns_ = 0;
  std::uint64_t receive_errors_ = 0;
  std::uint64_t reported_foreign_datagrams_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_foreign_report_;
};

}  // namespace fnft::daemon
