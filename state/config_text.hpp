// What the parsers of subnet.env and net-conf.json share: one-line messages that quote what
// a file held, and the judgement of a CIDR value. Internal to state/config_*.cpp and
// state/*_parse.cpp; the interface is state/config_parse.hpp.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "state/cidr.hpp"

namespace fnft::state::config_text {

// Values quoted in messages are escaped and cut to this length, so every message stays one
// printable line whatever the file holds.
inline constexpr std::size_t kMaxShownChars = 80;

std::string hex_digits(unsigned char c);
// `text` in double quotes, escaped so it cannot break the one-line message, and cut short.
std::string shown(std::string_view text);
std::string shown_json(const nlohmann::json& value);
// Throws ConfigError with `message` made one printable line.
[[noreturn]] void fail(std::string_view message);
std::string lowercase(std::string_view text);
std::string uppercase(std::string_view text);

enum class CidrRole { network, lease };

struct CidrSpec {
  Family family;
  CidrRole role;
  std::string_view example;      // how a good value looks in this file
  std::string_view other_place;  // where a value of the other family belongs
};

struct Problem {
  std::string what;
  std::string expected;
};

std::string cidr_expectation(const CidrSpec& spec);
// The CIDR `text` stands for, or why it is not the one `spec` asks for. Leases come back with
// host bits cleared; networks with host bits set are refused, since flanneld never writes one.
std::optional<Cidr> judge_cidr(std::string_view text, const CidrSpec& spec, Problem& problem);

}  // namespace fnft::state::config_text
