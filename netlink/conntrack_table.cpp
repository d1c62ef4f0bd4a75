#include "netlink/conntrack_table.hpp"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

int ignore(enum nf_conntrack_msg_type, nf_conntrack*, void*) {
  return NFCT_CB_CONTINUE;
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
  nfct_callback_register(handle_.get(), NFCT_T_ALL, ignore, nullptr);
  for (const auto& ct : matches.entries) {
    if (nfct_query(handle_.get(), NFCT_Q_DESTROY, ct.get()) == 0 || errno == ENOENT) {
      ++result.deleted;
    }
  }
  nfct_callback_unregister(handle_.get());
  return result;
}

std::size_t ConntrackTable::count(state::Family family, const Predicate& reset_if) {
  return dump(family, reset_if).entries.size();
}

}  // namespace fnft::netlink
