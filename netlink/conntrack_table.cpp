#include "netlink/conntrack_table.hpp"

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "netlink/netlink_error.hpp"

namespace fnft::netlink {
namespace {

constexpr std::uint32_t kUnnatedUnanswered = IPS_SRC_NAT | IPS_DST_NAT | IPS_SEEN_REPLY;

struct Destroy {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using Conntrack = std::unique_ptr<nf_conntrack, Destroy>;

struct DestroyFilter {
  void operator()(nfct_filter_dump* filter) const { nfct_filter_dump_destroy(filter); }
};

state::ConntrackEntry entry_of(const nf_conntrack* ct, state::Family family) {
  state::ConntrackEntry entry;
  entry.family = family;
  const bool ipv4 = family == state::Family::ipv4;
  const auto copy = [&](nf_conntrack_attr attr, std::array<std::uint8_t, 16>& to) {
    if (nfct_attr_is_set(ct, attr) <= 0) return;
    std::memcpy(to.data(), nfct_get_attr(ct, attr), ipv4 ? 4 : 16);
  };
  copy(ipv4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC, entry.source);
  // The destination postrouting saw: after a DNAT, the reply's source.
  copy(ipv4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC, entry.destination);
  if (nfct_attr_is_set(ct, ATTR_MARK)) entry.mark = nfct_get_attr_u32(ct, ATTR_MARK);
  const std::uint32_t status =
      nfct_attr_is_set(ct, ATTR_STATUS) ? nfct_get_attr_u32(ct, ATTR_STATUS) : 0;
  entry.source_nat = (status & IPS_SRC_NAT) != 0;
  entry.destination_nat = (status & IPS_DST_NAT) != 0;
  entry.seen_reply = (status & IPS_SEEN_REPLY) != 0;
  return entry;
}

struct DumpState {
  state::Family family;
  const std::function<bool(const state::ConntrackEntry&)>* reset_if;
  std::size_t examined = 0;
  std::vector<Conntrack> doomed;
};

int on_entry(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
  auto& dump = *static_cast<DumpState*>(data);
  ++dump.examined;
  if (nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) !=
      (dump.family == state::Family::ipv4 ? AF_INET : AF_INET6))
    return NFCT_CB_CONTINUE;
  if (!(*dump.reset_if)(entry_of(ct, dump.family))) return NFCT_CB_CONTINUE;
  dump.doomed.emplace_back(ct);  // kept: NFCT_CB_STOLEN leaves it to us
  return NFCT_CB_STOLEN;
}

// A delete request is its header and the original tuple's nested attributes: far below this.
constexpr std::size_t kLargestDelete = 512;
constexpr std::size_t kDeleteBatchBytes = 64 * 1024;

// How many of the requests just sent the kernel refused for another reason than the entry
// being gone already: its error answers are queued before the send returns.
std::size_t refused_in(int fd, std::vector<char>& buffer) {
  std::size_t refused = 0;
  for (;;) {
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got <= 0) return refused;
    auto remaining = static_cast<int>(got);
    for (auto* message = reinterpret_cast<nlmsghdr*>(buffer.data());
         mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      if (message->nlmsg_type != NLMSG_ERROR) continue;
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
      if (error->error != 0 && error->error != -ENOENT) ++refused;
    }
  }
}

}  // namespace

void ConntrackTable::Close::operator()(nfct_handle* handle) const {
  nfct_close(handle);
}

ConntrackTable::ConntrackTable() : handle_(nfct_open(CONNTRACK, 0)) {
  if (!handle_) {
    const int error = errno;
    throw NetlinkError(error, std::string("cannot open ctnetlink (the conntrack table): ") +
                                  std::strerror(error) +
                                  "; connections that missed masquerade are not reset");
  }
  // Connected to the kernel, the socket takes unicasts from the kernel alone: another
  // process can neither fill its buffer between resets nor slip answers into a dump.
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::connect(nfct_fd(handle_.get()), reinterpret_cast<const sockaddr*>(&kernel),
                sizeof kernel) != 0) {
    const int error = errno;
    throw NetlinkError(error, std::string("cannot connect the ctnetlink socket to the kernel: ") +
                                  std::strerror(error));
  }
}

ConntrackTable::~ConntrackTable() = default;

struct ConntrackTable::Matches {
  std::size_t examined = 0;
  std::vector<Conntrack> entries;
};

ConntrackTable::Matches ConntrackTable::dump(state::Family family, const Predicate& reset_if) {
  const Predicate judged = [&](const state::ConntrackEntry& entry) {
    return !entry.source_nat && !entry.destination_nat && !entry.seen_reply && reset_if(entry);
  };
  DumpState dump{family, &judged, 0, {}};
  std::unique_ptr<nfct_filter_dump, DestroyFilter> filter(nfct_filter_dump_create());
  if (!filter) throw NetlinkError(ENOMEM, "conntrack dump filter: out of memory");
  nfct_filter_dump_set_attr_u8(filter.get(), NFCT_FILTER_DUMP_L3NUM,
                               family == state::Family::ipv4 ? AF_INET : AF_INET6);
  const nfct_filter_dump_mark status{0, kUnnatedUnanswered};
  nfct_filter_dump_set_attr(filter.get(), NFCT_FILTER_DUMP_STATUS, &status);
  nfct_callback_register(handle_.get(), NFCT_T_ALL, on_entry, &dump);
  const int dumped = nfct_query(handle_.get(), NFCT_Q_DUMP_FILTER, filter.get());
  const int dump_error = errno;
  nfct_callback_unregister(handle_.get());
  if (dumped < 0) {
    throw NetlinkError(dump_error, std::string("cannot list the conntrack table (") +
                                       std::string(state::family_name(family)) +
                                       "): " + std::strerror(dump_error));
  }
  return {dump.examined, std::move(dump.doomed)};
}

ConntrackTable::Reset ConntrackTable::reset(state::Family family, const Predicate& reset_if) {
  const Matches matches = dump(family, reset_if);
  Reset result;
  result.examined = matches.examined;
  // Many deletions to one send, without NLM_F_ACK: the kernel handles each message of the
  // buffer in turn within the send and answers only those it refuses, so a window that
  // left a thousand entries costs a few system calls rather than a round trip each.
  const int fd = nfct_fd(handle_.get());
  std::vector<char> batch(kDeleteBatchBytes);
  std::vector<char> answers(kDeleteBatchBytes);
  std::size_t refused = 0;
  for (std::size_t next = 0; next < matches.entries.size();) {
    std::size_t used = 0;
    for (; next < matches.entries.size() && used + kLargestDelete <= batch.size(); ++next) {
      std::memset(batch.data() + used, 0, kLargestDelete);
      nlmsghdr* message = mnl_nlmsg_put_header(batch.data() + used);
      message->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
      message->nlmsg_flags = NLM_F_REQUEST;
      auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(nfgenmsg)));
      header->nfgen_family = family == state::Family::ipv4 ? AF_INET : AF_INET6;
      header->version = NFNETLINK_V0;
      const nf_conntrack* entry = matches.entries[next].get();
      if (nfct_nlmsg_build(message, entry) != 0) {
        ++refused;
        continue;
      }
      // The kernel deletes only the entry of this id: one that replaced it under the same
      // tuple since the dump (a new, masqueraded connection) stays.
      if (nfct_attr_is_set(entry, ATTR_ID) > 0)
        mnl_attr_put_u32(message, CTA_ID, htonl(nfct_get_attr_u32(entry, ATTR_ID)));
      used += NLMSG_ALIGN(message->nlmsg_len);
    }
    if (used == 0) continue;
    if (::send(fd, batch.data(), used, 0) < 0) {
      const int error = errno;
      throw NetlinkError(error, std::string("cannot delete conntrack entries (") +
                                    std::string(state::family_name(family)) +
                                    "): " + std::strerror(error));
    }
    refused += refused_in(fd, answers);
  }
  // One already gone (ENOENT) counts as deleted: it was reset either way.
  result.deleted = matches.entries.size() - std::min(refused, matches.entries.size());
  return result;
}

std::size_t ConntrackTable::count(state::Family family, const Predicate& reset_if) {
  return dump(family, reset_if).entries.size();
}

}  // namespace fnft::netlink
