#include "bench/link_event_monitor.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "netlink/netlink_messages.hpp"

namespace fnft::bench {

LinkEventMonitor::LinkEventMonitor(std::vector<state::DefaultRoute> default_routes)
    : default_routes_(std::move(default_routes)), subscriber_(NETLINK_ROUTE, {RTNLGRP_LINK}) {
  // The links there are now, so that a link event is known for what it changes.
  struct {
    nlmsghdr header;
    ifinfomsg info;
  } dump{};
  dump.header.nlmsg_len = sizeof dump;
  dump.header.nlmsg_type = RTM_GETLINK;
  dump.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  dump.info.ifi_family = AF_UNSPEC;
  subscriber_.send(std::as_bytes(std::span(&dump, 1)));
  subscriber_.start([this](std::span<const std::byte> datagram, Clock::time_point at) {
    received(datagram, at);
  });
}

LinkEventMonitor::~LinkEventMonitor() = default;

void LinkEventMonitor::received(std::span<const std::byte> datagram, Clock::time_point at) {
  netlink::NetlinkMessages messages(datagram);
  while (const nlmsghdr* message = messages.next()) handle(message, at);
}

std::optional<LinkEventMonitor::Clock::time_point> LinkEventMonitor::last_device_set_change()
    const {
  const std::lock_guard lock(mutex_);
  return last_change_;
}

void LinkEventMonitor::handle(const nlmsghdr* message, Clock::time_point received) {
  if (message->nlmsg_type != RTM_NEWLINK && message->nlmsg_type != RTM_DELLINK) return;
  if (mnl_nlmsg_get_payload_len(message) < sizeof(ifinfomsg)) return;
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  if (info->ifi_family != AF_UNSPEC) return;  // the bridge's per-port copies
  ++events_;
  std::string name;
  int master = 0;
  const nlattr* attr = nullptr;
  const std::size_t skip = MNL_ALIGN(sizeof(ifinfomsg));
  for (attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, skip)); mnl_attr_ok(
           attr, static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(message)) -
                                  reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == IFLA_IFNAME) name = mnl_attr_get_str(attr);
    if (mnl_attr_get_type(attr) == IFLA_MASTER) master = static_cast<int>(mnl_attr_get_u32(attr));
  }
  const std::lock_guard lock(mutex_);
  if (message->nlmsg_type == RTM_DELLINK) {
    if (links_.erase(info->ifi_index) == 0) return;
  } else {
    const state::LinkInfo link{info->ifi_index, name, master};
    auto [at, inserted] = links_.try_emplace(info->ifi_index, link);
    if (!inserted && at->second == link) return;
    at->second = link;
  }
  std::vector<state::LinkInfo> links;
  for (const auto& [ifindex, link] : links_) links.push_back(link);
  auto devices = state::fast_path_devices(links, default_routes_, {});
  if (devices == devices_) return;
  devices_ = std::move(devices);
  last_change_ = received;
}

}  // namespace fnft::bench
