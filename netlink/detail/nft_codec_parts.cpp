#include "netlink/detail/nft_codec_parts.hpp"

#include <libnftnl/udata.h>

#include <cerrno>

#include "netlink/detail/nft_codec.hpp"
#include "state/cidr.hpp"

namespace fnft::netlink {

std::string family_text(std::uint32_t nfproto) {
  if (const auto family = family_of_nfproto(nfproto))
    return std::string(state::nft_family_name(*family));
  return "family " + std::to_string(nfproto);
}

NetlinkError unrepresentable(const std::string& object, const std::string& what) {
  return NetlinkError(EPROTO, "cannot read " + object + ": " + what +
                                  " is not something flannel-nftd models; delete the object "
                                  "with nft and let flannel-nftd recreate it");
}

std::string string_or_empty(const char* text) {
  return text == nullptr ? std::string() : text;
}

// The comment in a rule's or a table's userdata: TLVs of a type byte and a length byte, the
// comment's type being 0 for both (NFTNL_UDATA_RULE_COMMENT, NFTNL_UDATA_TABLE_COMMENT). Walked
// here rather than with nftnl_udata_parse(), which (in 1.2.4) hands its callback a TLV
// without checking that it fits in the data.
static_assert(static_cast<int>(NFTNL_UDATA_RULE_COMMENT) ==
              static_cast<int>(NFTNL_UDATA_TABLE_COMMENT));
std::string comment_in_userdata(const void* data, std::uint32_t length) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string comment;
  for (std::uint32_t at = 0; length - at >= 2;) {
    const unsigned type = bytes[at];
    const std::uint32_t value_length = bytes[at + 1];
    const std::uint32_t value_at = at + 2;
    if (value_length > length - value_at) break;
    // A comment is a C string; anything else under its type is ignored.
    if (type == NFTNL_UDATA_RULE_COMMENT && value_length > 0 &&
        bytes[value_at + value_length - 1] == '\0') {
      comment.assign(reinterpret_cast<const char*>(bytes + value_at), value_length - 1);
    }
    at = value_at + value_length;
  }
  return comment;
}

}  // namespace fnft::netlink
