#include "netlink/detail/netlink_ack.hpp"

#include <libmnl/libmnl.h>

#include <cerrno>
#include <cstring>

#include "netlink/detail/nl_attributes.hpp"

namespace fnft::netlink {
namespace {

void read_extended_ack(const nlmsghdr* nlh, std::size_t tlv_offset, AckInfo& info) {
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return;
  if (mnl_nlmsg_get_payload_len(nlh) < tlv_offset) return;
  for_each_attribute(nlh, tlv_offset, [&info](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NLMSGERR_ATTR_MSG:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
          info.message = mnl_attr_get_str(attr);
        break;
      case NLMSGERR_ATTR_OFFS:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
          info.bad_attribute_offset = mnl_attr_get_u32(attr);
        break;
      case NLMSGERR_ATTR_MISS_TYPE:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
          info.missing_attribute_type = mnl_attr_get_u32(attr);
        break;
      case NLMSGERR_ATTR_MISS_NEST:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
          info.missing_nest_offset = mnl_attr_get_u32(attr);
        break;
      default: break;
    }
  });
}

// The kernel reports -errno, never below -MAX_ERRNO; anything else (INT_MIN, whose negation
// overflows, say) is not an error code.
int errno_of(int reported) {
  constexpr int kMaxErrno = 4095;
  return reported <= 0 && reported >= -kMaxErrno ? -reported : EPROTO;
}

}  // namespace

AckInfo parse_ack(const nlmsghdr* nlh) {
  AckInfo info;
  const std::size_t payload_len = mnl_nlmsg_get_payload_len(nlh);
  if (nlh->nlmsg_type == NLMSG_DONE) {
    // A dump ends with an int status, then (with NETLINK_EXT_ACK) the same TLVs as an error.
    int status = 0;
    if (payload_len >= sizeof status)
      std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
    info.error = errno_of(status);
    read_extended_ack(nlh, MNL_ALIGN(sizeof status), info);
    return info;
  }
  if (payload_len < sizeof(nlmsgerr)) {
    info.error = EBADMSG;
    return info;
  }
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  info.error = errno_of(err->error);
  // Without NETLINK_CAP_ACK the kernel echoes our whole request before the TLVs (on errors).
  std::size_t tlv_offset = sizeof(nlmsgerr);
  if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0 && info.error != 0) {
    tlv_offset = sizeof(err->error) + MNL_ALIGN(err->msg.nlmsg_len);
  }
  read_extended_ack(nlh, tlv_offset, info);
  return info;
}

}  // namespace fnft::netlink
