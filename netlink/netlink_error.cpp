#include "netlink/netlink_error.hpp"

#include <cerrno>
#include <cstring>

namespace fnft::netlink {

std::string_view remedy_for(int error_code) {
  switch (error_code) {
    case EPERM:
      return "Run flannel-nftd with CAP_NET_ADMIN in this network namespace; if the table shows "
             "`flags owner` in `nft list tables`, another process owns it";
    case ENOENT:
      return "The object it refers to is gone (deleted concurrently: the next resync retries), or "
             "the kernel lacks a module it needs (nf_tables, nft_chain_nat, nft_masq)";
    case EEXIST:
      return "An object of that name exists with other properties (e.g. a chain on another "
             "hook); delete it with nft or let flannel-nftd replace it";
    case EBUSY:
      return "The object is still in use (a rule jumps to the chain) or is owned by another "
             "process";
    case ERESTART:
      return "The ruleset changed between our dump and our commit; retrying from a fresh dump "
             "is safe";
    case ENOBUFS:
      return "Netlink messages were lost because a socket buffer was full; a full resync is "
             "needed";
    case EMSGSIZE:
      return "The batch does not fit the socket send buffer; run with CAP_NET_ADMIN so it can be "
             "raised";
    case EOPNOTSUPP: return "The kernel does not support this (too old, or a module is missing)";
    case EINVAL:
      return "The kernel rejected the message as malformed; this is a flannel-nftd bug, please "
             "report it with this message";
    case ETIMEDOUT: return "The kernel did not answer in time; check `dmesg` for nf_tables errors";
    default: return {};
  }
}

NetlinkError make_error(int error_code, std::string_view action, std::string_view details) {
  std::string message(action);
  message += ": ";
  message += std::strerror(error_code);
  if (!details.empty()) {
    message += "; kernel says: ";
    message += details;
  }
  const std::string_view remedy = remedy_for(error_code);
  if (!remedy.empty()) {
    message += ". ";
    message += remedy;
  }
  return NetlinkError(error_code, message);
}

}  // namespace fnft::netlink
