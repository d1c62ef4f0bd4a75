// Walking netlink attributes from C++: libmnl's mnl_attr_for_each macros assign void* and do
// not compile as C++, so these do the same walk with bounds checks.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstddef>

namespace fnft::netlink {

// Calls f(const nlattr*) for each well-formed attribute in [begin, begin + length).
template <typename F>
void for_each_attribute_in(const void* begin, std::size_t length, F&& f) {
  const auto* cursor = static_cast<const char*>(begin);
  const char* const end = cursor + length;
  while (cursor + sizeof(nlattr) <= end) {
    const auto* attr = reinterpret_cast<const nlattr*>(cursor);
    if (attr->nla_len < sizeof(nlattr) || cursor + attr->nla_len > end) return;
    f(attr);
    cursor += MNL_ALIGN(attr->nla_len);
  }
}

// The attributes of a message, after `header_bytes` of fixed header (e.g. sizeof(nfgenmsg)).
template <typename F>
void for_each_attribute(const nlmsghdr* nlh, std::size_t header_bytes, F&& f) {
  const std::size_t payload = mnl_nlmsg_get_payload_len(nlh);
  const std::size_t skip = MNL_ALIGN(header_bytes);
  if (payload < skip) return;
  for_each_attribute_in(mnl_nlmsg_get_payload_offset(nlh, skip), payload - skip, f);
}

template <typename F>
void for_each_nested(const nlattr* nest, F&& f) {
  for_each_attribute_in(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), f);
}

}  // namespace fnft::netlink
