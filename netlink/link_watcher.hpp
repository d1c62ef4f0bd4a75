// The node's links and default routes, kept current from rtnetlink by libnl-route-3's cache
// manager. Owns the manager and its socket; the reactor watches fd() and calls
// receive() when it is readable (daemon/core/fast_path_controller.cpp).
//
// What the kernel and libnl do that the view corrects:
//  - IPv4 routes through a link that goes down or is deleted vanish without RTM_DELROUTE: the
//    watcher drops them itself;
//  - libnl keeps per-family (AF_INET6) link objects that outlive the link, and files a
//    bridge under AF_BRIDGE only: links are read from the AF_UNSPEC and AF_BRIDGE objects,
//    keyed by ifindex;
//  - a socket overrun (ENOBUFS) reaches us as -NLE_NOMEM: the caller reconnects, which builds
//    the caches again from fresh dumps, as after any other receive error;
//  - any process with CAP_NET_ADMIN can send to our port: only the kernel's messages count.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state/fast_path.hpp"

struct nl_cache;
struct nl_cache_mngr;
struct nl_msg;
struct nl_object;
struct nl_sock;

namespace fnft::netlink {

class LinkWatcher {
 public:
  // Room for a burst of pods coming and going (each veth is several RTM_NEWLINK messages of
  // a kilobyte or two); beyond it the overrun costs a fresh dump, which is correct.
  static constexpr int kDefaultReceiveBufferBytes = 4 << 20;

  // Subscribes and fills the caches from dumps. Throws NetlinkError.
  explicit LinkWatcher(int receive_buffer_bytes = kDefaultReceiveBufferBytes);
  ~LinkWatcher();
  LinkWatcher(const LinkWatcher&) = delete;
  LinkWatcher& operator=(const LinkWatcher&) = delete;

  // Changes with reconnect().
  int fd() const;

  struct Received {
    bool changed = false;  // the view may have changed
    // Set when events were lost or could not be read: reconnect() before the next receive.
    std::optional<std::string> lost;
  };
  // Reads what is queued, without waiting.
  Received receive();
  // A new socket and caches from fresh dumps. Throws NetlinkError.
  void reconnect();

  std::vector<state::LinkInfo> links() const;
  std::vector<state::DefaultRoute> default_routes() const;
  // Messages dropped because a process, not the kernel, sent them.
  std::uint64_t foreign_messages() const { return foreign_messages_; }

 private:
  struct Manager;
  static void changed(nl_cache* cache, nl_object* object, int action, void* self);

  static int from_kernel_only(nl_msg* message, void* self);
  void drop_routes_through(int ifindex);

  int receive_buffer_bytes_;
  std::unique_ptr<Manager> manager_;
  bool changed_ = false;
  std::uint64_t foreign_messages_ = 0;
};

}  // namespace fnft::netlink
