// What both halves of the codec (nft_codec.cpp: tables, chains, flowtables; nft_rule_codec.cpp:
// rules) need: how an object is named in an error, and the comment in an object's userdata.
#pragma once

#include <cstdint>
#include <string>

#include "netlink/netlink_error.hpp"

namespace fnft::netlink {

// "ip", "ip6", or "family 7" for one the state types cannot hold.
std::string family_text(std::uint32_t nfproto);
// EPROTO for an object whose `what` the state types cannot hold, with what to do.
NetlinkError unrepresentable(const std::string& object, const std::string& what);
std::string string_or_empty(const char* text);
std::string comment_in_userdata(const void* data, std::uint32_t length);

}  // namespace fnft::netlink
