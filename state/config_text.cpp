// The shared parts of the config file parsers: one-line messages, the CIDR judgement.
#include "state/config_text.hpp"

#include <algorithm>

#include "state/config_parse.hpp"
#include "state/one_line.hpp"

namespace fnft::state::config_text {
namespace {

using Json = nlohmann::json;

}  // namespace

std::string hex_digits(unsigned char c) {
  constexpr std::string_view digits = "0123456789ABCDEF";
  return {digits[c >> 4], digits[c & 0xf]};
}

static std::string escaped_byte(unsigned char c) {
  return "\\x" + hex_digits(c);
}

std::string shown(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == kMaxShownChars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += escaped_byte(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string shown_json(const Json& value) {
  if (value.is_string()) return shown(value.get_ref<const std::string&>());
  std::string text = value.dump(-1, ' ', true, Json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars) + "...";
  return text;
}

// one_line() is the last line of defence for the one-line promise: nlohmann quotes the bytes
// it choked on, which may be any bytes at all, and a log line must stay printable.
[[noreturn]] void fail(std::string_view message) {
  throw ConfigError(one_line(message));
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

std::string uppercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  });
  return out;
}

std::string cidr_expectation(const CidrSpec& spec) {
  return "an " + std::string(family_name(spec.family)) + " CIDR, e.g. " + std::string(spec.example);
}

std::optional<Cidr> judge_cidr(std::string_view text, const CidrSpec& spec, Problem& problem) {
  auto refuse = [&problem](std::string what, std::string expected) -> std::optional<Cidr> {
    problem = {std::move(what), std::move(expected)};
    return std::nullopt;
  };
  if (text.empty()) return refuse("value is empty", cidr_expectation(spec));
  if (text.find(',') != std::string_view::npos) {
    return refuse(shown(text) + " lists several networks",
                  "one " + std::string(family_name(spec.family)) +
                      " CIDR (flanneld's multi-network mode is not supported), e.g. " +
                      std::string(spec.example));
  }
  // parse_cidr hands the address to inet_pton as a C string, so a NUL would cut it short.
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!printable) {
    return refuse(shown(text) + " contains a blank or non-printable character",
                  cidr_expectation(spec));
  }
  CidrParseError error;
  const auto cidr = parse_cidr(text, &error);
  if (!cidr) {
    return refuse(shown(text) + " is not a CIDR (" + error.reason + ")", cidr_expectation(spec));
  }
  if (cidr->family != spec.family) {
    return refuse(shown(text) + " is an " + std::string(family_name(cidr->family)) + " CIDR",
                  cidr_expectation(spec) + " (" + std::string(family_name(cidr->family)) +
                      " goes in " + std::string(spec.other_place) + ")");
  }
  if (spec.role == CidrRole::lease) return cidr->network();
  if (cidr->has_host_bits()) {
    return refuse(shown(text) + " has host bits set",
                  "the network address " + cidr->network().to_string());
  }
  return cidr;
}

}  // namespace fnft::state::config_text
