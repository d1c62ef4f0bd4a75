#include "netlink/link_watcher.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>
#include <map>

#include "netlink/netlink_error.hpp"

namespace fnft::netlink {
namespace {

struct SocketFree {
  void operator()(nl_sock* socket) const { nl_socket_free(socket); }
};
struct ManagerFree {
  void operator()(nl_cache_mngr* manager) const { nl_cache_mngr_free(manager); }
};

NetlinkError libnl_error(int error, const std::string& what) {
  return NetlinkError(EPROTO,
                      what + ": " + nl_geterror(error) +
                          ". The daemon needs rtnetlink (links and routes) for --flowtable");
}

template <typename F>
void for_each_object(nl_cache* cache, F&& f) {
  nl_cache_foreach(
      cache, [](nl_object* object, void* data) { (*static_cast<F*>(data))(object); }, &f);
}

bool has_nexthop_on(rtnl_route* route, int ifindex) {
  struct Search {
    int ifindex;
    bool found = false;
  } search{ifindex};
  rtnl_route_foreach_nexthop(
      route,
      [](rtnl_nexthop* nexthop, void* data) {
        auto* s = static_cast<Search*>(data);
        if (rtnl_route_nh_get_ifindex(nexthop) == s->ifindex) s->found = true;
      },
      &search);
  return search.found;
}

// libnl keeps one object per link and family it heard of. The link itself is the AF_UNSPEC
// object, except for a bridge, which libnl files under AF_BRIDGE only (a bridge port has
// both); the AF_INET6 objects (IPv6 settings) are not removed with their link.
bool is_link_itself(rtnl_link* link) {
  const int family = rtnl_link_get_family(link);
  return family == AF_UNSPEC || family == AF_BRIDGE;
}

}  // namespace

struct LinkWatcher::Manager {
  std::unique_ptr<nl_sock, SocketFree> socket;
  // Declared after the socket: freed before it.
  std::unique_ptr<nl_cache_mngr, ManagerFree> manager;
  nl_cache* links = nullptr;   // owned by the manager
  nl_cache* routes = nullptr;  // owned by the manager
};

LinkWatcher::LinkWatcher(int receive_buffer_bytes) : receive_buffer_bytes_(receive_buffer_bytes) {
  reconnect();
}

LinkWatcher::~LinkWatcher() = default;

void LinkWatcher::reconnect() {
  auto manager = std::make_unique<Manager>();
  manager->socket.reset(nl_socket_alloc());
  if (!manager->socket) throw std::bad_alloc();
  // The manager clones the socket's callbacks for its receives, so this one stays in force.
  nl_socket_modify_cb(manager->socket.get(), NL_CB_MSG_IN, NL_CB_CUSTOM,
                      &LinkWatcher::from_kernel_only, this);
  nl_cache_mngr* raw = nullptr;
  if (const int error = nl_cache_mngr_alloc(manager->socket.get(), NETLINK_ROUTE, 0, &raw);
      error < 0) {
    throw libnl_error(error, "open an rtnetlink cache manager");
  }
  manager->manager.reset(raw);
  const int fd = nl_socket_get_fd(manager->socket.get());
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer_bytes_,
                   sizeof receive_buffer_bytes_) != 0) {
    nl_socket_set_buffer_size(manager->socket.get(), receive_buffer_bytes_, 0);
  }
  if (const int error =
          nl_cache_mngr_add(raw, "route/link", &LinkWatcher::changed, this, &manager->links);
      error < 0) {
    throw libnl_error(error, "watch the node's links (rtnetlink)");
  }
  if (const int error =
          nl_cache_mngr_add(raw, "route/route", &LinkWatcher::changed, this, &manager->routes);
      error < 0) {
    throw libnl_error(error, "watch the node's routes (rtnetlink)");
  }
  manager_ = std::move(manager);
}

int LinkWatcher::fd() const {
  return nl_cache_mngr_get_fd(manager_->manager.get());
}

LinkWatcher::Received LinkWatcher::receive() {
  changed_ = false;
  Received received;
  const int result = nl_cache_mngr_data_ready(manager_->manager.get());
  if (result < 0) {
    // ENOBUFS arrives as -NLE_NOMEM; whatever it was, fresh dumps make the view right again.
    received.lost = result == -NLE_NOMEM
                        ? std::string("rtnetlink events were lost (socket overrun)")
                        : std::string("rtnetlink: ") + nl_geterror(result);
  }
  received.changed = changed_ || received.lost.has_value();
  return received;
}

int LinkWatcher::from_kernel_only(nl_msg* message, void* self) {
  const sockaddr_nl* source = nlmsg_get_src(message);
  if (source != nullptr && source->nl_pid == 0) return NL_OK;
  ++static_cast<LinkWatcher*>(self)->foreign_messages_;
  return NL_SKIP;
}

void LinkWatcher::changed(nl_cache* cache, nl_object* object, int action, void* self) {
  auto* watcher = static_cast<LinkWatcher*>(self);
  watcher->changed_ = true;
  if (watcher->manager_ == nullptr || cache != watcher->manager_->links) return;
  auto* link = reinterpret_cast<rtnl_link*>(object);
  if (!is_link_itself(link)) return;
  const bool down = (rtnl_link_get_flags(link) & IFF_UP) == 0;
  if (action == NL_ACT_DEL || down) watcher->drop_routes_through(rtnl_link_get_ifindex(link));
}

void LinkWatcher::drop_routes_through(int ifindex) {
  std::vector<nl_object*> stale;
  for_each_object(manager_->routes, [&](nl_object* object) {
    auto* route = reinterpret_cast<rtnl_route*>(object);
    if (rtnl_route_get_family(route) == AF_INET && has_nexthop_on(route, ifindex)) {
      nl_object_get(object);
      stale.push_back(object);
    }
  });
  for (nl_object* object : stale) {
    nl_cache_remove(object);
    nl_object_put(object);
  }
}

std::vector<state::LinkInfo> LinkWatcher::links() const {
  std::map<int, state::LinkInfo> by_ifindex;
  for_each_object(manager_->links, [&](nl_object* object) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    if (!is_link_itself(link)) return;
    const char* name = rtnl_link_get_name(link);
    const int ifindex = rtnl_link_get_ifindex(link);
    // A bridge port has both objects, alike; the AF_UNSPEC one is the link's own.
    if (by_ifindex.count(ifindex) != 0 && rtnl_link_get_family(link) != AF_UNSPEC) return;
    by_ifindex[ifindex] = {ifindex, name != nullptr ? name : "", rtnl_link_get_master(link)};
  });
  std::vector<state::LinkInfo> links;
  for (auto& [ifindex, link] : by_ifindex) links.push_back(std::move(link));
  return links;
}

std::vector<state::DefaultRoute> LinkWatcher::default_routes() const {
  std::vector<state::DefaultRoute> routes;
  for_each_object(manager_->routes, [&](nl_object* object) {
    auto* route = reinterpret_cast<rtnl_route*>(object);
    nl_addr* dst = rtnl_route_get_dst(route);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST ||
        (dst != nullptr && nl_addr_get_prefixlen(dst) != 0)) {
      return;
    }
    const int family = rtnl_route_get_family(route);
    if (family != AF_INET && family != AF_INET6) return;
    struct Collect {
      std::vector<state::DefaultRoute>* routes;
      state::Family family;
    } collect{&routes, family == AF_INET ? state::Family::ipv4 : state::Family::ipv6};
    rtnl_route_foreach_nexthop(
        route,
        [](rtnl_nexthop* nexthop, void* data) {
          auto* c = static_cast<Collect*>(data);
          c->routes->push_back({c->family, rtnl_route_nh_get_ifindex(nexthop)});
        },
        &collect);
  });
  return routes;
}

}  // namespace fnft::netlink
