#include "state/config_parse.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "state/json_depth.hpp"
#include "state/one_line.hpp"

// Decisions not spelled out in config_parse.hpp:
// - subnet.env: keys that do not start with FLANNEL_ (in any case) are ignored; a key that is
//   a known one in the wrong case is an error. Blanks around a key and its value are ignored.
//   Values must be unquoted, as flanneld writes them. A FLANNEL_NETWORK with host bits set is
//   an error (flanneld never writes one); the leases are written with host bits set, so those
//   are cleared. Comma-separated network lists (flanneld's multi-network mode) are rejected.
// - net-conf.json: a JSON null counts as absent (Go leaves the field at its default), two keys
//   we read that match without regard to case are an error rather than "last wins", and the
//   file is limited to 1 MiB (the most a ConfigMap holds).
// - Values quoted in messages are escaped and cut to a readable length, so every message stays
//   one printable line whatever the file holds.
// - net-conf.json may nest at most kMaxJsonDepth arrays/objects: nlohmann-json parses
//   iteratively but prints recursively, so a 100,000-level value in an error message would
//   overflow the stack. flanneld's files nest three levels deep.

namespace fnft::state {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxSubnetEnvBytes = 64 * 1024;
constexpr std::size_t kMaxNetConfBytes = 1024 * 1024;
constexpr int kMinMtu = 68;  // the smallest MTU IPv4 allows (RFC 791)
constexpr int kMaxMtu = 65535;
constexpr std::size_t kMaxShownChars = 80;
constexpr std::size_t kMaxJsonDepth = 64;
constexpr std::string_view kNetConfExample =
    R"({"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}})";

// ---- message helpers ------------------------------------------------------------------------

std::string hex_digits(unsigned char c) {
  constexpr std::string_view digits = "0123456789ABCDEF";
  return {digits[c >> 4], digits[c & 0xf]};
}

std::string escaped_byte(unsigned char c) {
  return "\\x" + hex_digits(c);
}

// `text` in double quotes, escaped so it cannot break the one-line message, and cut short.
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

std::string_view family_name(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

// ---- CIDR values, shared by both files --------------------------------------------------------

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

std::string cidr_expectation(const CidrSpec& spec) {
  return "an " + std::string(family_name(spec.family)) + " CIDR, e.g. " + std::string(spec.example);
}

// The CIDR `text` stands for, or why it is not the one `spec` asks for. Leases come back with
// host bits cleared; networks with host bits set are refused, since flanneld never writes one.
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

// ---- subnet.env ----------------------------------------------------------------------------

enum class EnvKey { network, subnet, ipv6_network, ipv6_subnet, mtu, ip_masq };

struct EnvKeyName {
  EnvKey key;
  std::string_view name;
};

constexpr std::array<EnvKeyName, 6> kEnvKeys{{
    {EnvKey::network, "FLANNEL_NETWORK"},
    {EnvKey::subnet, "FLANNEL_SUBNET"},
    {EnvKey::ipv6_network, "FLANNEL_IPV6_NETWORK"},
    {EnvKey::ipv6_subnet, "FLANNEL_IPV6_SUBNET"},
    {EnvKey::mtu, "FLANNEL_MTU"},
    {EnvKey::ip_masq, "FLANNEL_IPMASQ"},
}};

constexpr std::string_view kEnvKeyList =
    "one of FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET, "
    "FLANNEL_MTU, FLANNEL_IPMASQ";

std::optional<EnvKey> find_env_key(std::string_view name) {
  for (const auto& entry : kEnvKeys) {
    if (entry.name == name) return entry.key;
  }
  return std::nullopt;
}

CidrSpec env_cidr_spec(EnvKey key) {
  switch (key) {
    case EnvKey::network:
      return {Family::ipv4, CidrRole::network, "10.244.0.0/16", "FLANNEL_IPV6_NETWORK"};
    case EnvKey::subnet:
      return {Family::ipv4, CidrRole::lease, "10.244.1.1/24", "FLANNEL_IPV6_SUBNET"};
    case EnvKey::ipv6_network:
      return {Family::ipv6, CidrRole::network, "fd00:10:244::/56", "FLANNEL_NETWORK"};
    default: return {Family::ipv6, CidrRole::lease, "fd00:10:244:1::1/64", "FLANNEL_SUBNET"};
  }
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

bool is_variable_name(std::string_view name) {
  auto word_char = [](unsigned char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  return !name.empty() && !(name.front() >= '0' && name.front() <= '9') &&
         std::all_of(name.begin(), name.end(), word_char);
}

class SubnetEnvParser {
 public:
  explicit SubnetEnvParser(const std::string& path) : path_(path) {}

  SubnetEnv parse(std::string_view content) {
    if (content.size() > kMaxSubnetEnvBytes) {
      fail(path_ + ": file is " + std::to_string(content.size()) + " bytes, over the " +
           std::to_string(kMaxSubnetEnvBytes) +
           "-byte limit; expected the few KEY=VALUE lines flanneld writes");
    }
    while (!content.empty()) {
      ++line_number_;
      const auto newline = content.find('\n');
      parse_line(content.substr(0, newline));
      content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
    }
    if (first_line_.empty()) {
      fail(path_ +
           ": no FLANNEL_* keys (the file is empty or holds only comments); expected the "
           "KEY=VALUE lines flanneld writes, e.g. FLANNEL_NETWORK=10.244.0.0/16");
    }
    return result_;
  }

 private:
  // An empty `subject` is left out: some faults belong to the line, not to a key.
  [[noreturn]] void fail_line(std::string_view subject, std::string_view what,
                              std::string_view expected) const {
    const std::string prefix = subject.empty() ? "" : std::string(subject) + ": ";
    fail(path_ + ":" + std::to_string(line_number_) + ": " + prefix + std::string(what) +
         "; expected " + std::string(expected));
  }

  void check_bytes(std::string_view line) const {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if (c == '\r' && i + 1 == line.size()) {
        fail_line("", "line ends with CR (Windows line ending)",
                  "Unix LF line endings (convert the file with dos2unix)");
      }
      if ((c < 0x20 && c != '\t') || c >= 0x7f) {
        fail_line("",
                  "byte 0x" + hex_digits(c) + " at column " + std::to_string(i + 1) +
                      " is not printable ASCII",
                  "a text file of KEY=VALUE lines as flanneld writes it");
      }
    }
  }

  void parse_line(std::string_view raw) {
    check_bytes(raw);
    const auto line = trim(raw);
    if (line.empty() || line.front() == '#') return;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      fail_line(shown(line), "missing '='", "KEY=VALUE lines such as FLANNEL_MTU=1450");
    }
    const auto name = trim(line.substr(0, equals));
    const auto value = trim(line.substr(equals + 1));
    if (!is_variable_name(name)) {
      fail_line(shown(name), "not a variable name",
                "KEY=VALUE with a KEY of letters, digits and '_', e.g. FLANNEL_MTU=1450");
    }
    const auto key = find_env_key(name);
    if (!key) {
      check_unknown_key(name);
      return;
    }
    remember(*key, name);
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      fail_line(name, shown(value) + " is quoted", "the value unquoted, as flanneld writes it");
    }
    store(*key, name, value);
  }

  // Other programs' variables are none of our business; a FLANNEL_ key we do not know means
  // the file is not what we think it is.
  void check_unknown_key(std::string_view name) const {
    const auto upper = uppercase(name);
    if (!upper.starts_with("FLANNEL_")) return;
    if (find_env_key(upper)) fail_line(name, "keys are case-sensitive", upper);
    fail_line(name, "unknown key", kEnvKeyList);
  }

  void remember(EnvKey key, std::string_view name) {
    const auto [it, inserted] = first_line_.emplace(key, line_number_);
    if (!inserted) {
      fail_line(name, "duplicate key (first set on line " + std::to_string(it->second) + ")",
                "each key once");
    }
  }

  void store(EnvKey key, std::string_view name, std::string_view value) {
    switch (key) {
      case EnvKey::network: result_.network = cidr(key, name, value); break;
      case EnvKey::subnet: result_.subnet = cidr(key, name, value); break;
      case EnvKey::ipv6_network: result_.ipv6_network = cidr(key, name, value); break;
      case EnvKey::ipv6_subnet: result_.ipv6_subnet = cidr(key, name, value); break;
      case EnvKey::mtu: result_.mtu = mtu(name, value); break;
      case EnvKey::ip_masq: result_.ip_masq = boolean(name, value); break;
    }
  }

  Cidr cidr(EnvKey key, std::string_view name, std::string_view value) const {
    Problem problem;
    const auto result = judge_cidr(value, env_cidr_spec(key), problem);
    if (!result) fail_line(name, problem.what, problem.expected);
    return *result;
  }

  int mtu(std::string_view name, std::string_view value) const {
    const auto expected =
        "an MTU in " + std::to_string(kMinMtu) + ".." + std::to_string(kMaxMtu) + ", e.g. 1450";
    int parsed = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
    if (value.empty() || (ec != std::errc{} && ec != std::errc::result_out_of_range) ||
        ptr != end) {
      fail_line(name, shown(value) + " is not an integer", expected);
    }
    if (ec == std::errc::result_out_of_range || parsed < kMinMtu || parsed > kMaxMtu) {
      fail_line(name, shown(value) + " is out of range", expected);
    }
    return parsed;
  }

  bool boolean(std::string_view name, std::string_view value) const {
    if (value == "true") return true;
    if (value == "false") return false;
    fail_line(name, shown(value) + " is not a boolean", "true or false");
  }

  const std::string& path_;
  int line_number_ = 0;
  std::map<EnvKey, int> first_line_;
  SubnetEnv result_;
};

// ---- net-conf.json --------------------------------------------------------------------------

// The keys we read, lowercased: Go's encoding/json matches them without regard to case.
constexpr std::array<std::string_view, 6> kNetConfKeys{"network",    "ipv6network",    "enableipv4",
                                                       "enableipv6", "enablenftables", "backend"};

// Go keeps the last of two keys that match without regard to case; a parsed Json object keeps
// neither their order nor exact duplicates, so duplicates are caught while parsing.
class DuplicateKeyFinder {
 public:
  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: push(true); break;
      case Json::parse_event_t::array_start: push(false); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end: frames_.pop_back(); break;
      case Json::parse_event_t::key: on_key(parsed.get<std::string>()); break;
      case Json::parse_event_t::value: break;
    }
    return true;
  }

  // The first duplicate, as {first spelling, second spelling}, keys under Backend prefixed.
  const std::optional<std::pair<std::string, std::string>>& duplicate() const { return duplicate_; }

 private:
  enum class Role { top, backend, other };

  struct Frame {
    Role role;
    bool is_object;
    std::string last_key;
    std::map<std::string, std::string> seen;  // lowercased -> as written
  };

  void push(bool is_object) {
    Role role = Role::other;
    if (frames_.empty()) {
      role = Role::top;
    } else if (frames_.size() == 1 && frames_.back().is_object &&
               lowercase(frames_.back().last_key) == "backend") {
      role = Role::backend;
    }
    frames_.push_back({role, is_object, {}, {}});
  }

  bool is_read(Role role, const std::string& lower) const {
    if (role == Role::backend) return lower == "type";
    return role == Role::top &&
           std::find(kNetConfKeys.begin(), kNetConfKeys.end(), lower) != kNetConfKeys.end();
  }

  void on_key(const std::string& key) {
    auto& frame = frames_.back();
    frame.last_key = key;
    const auto lower = lowercase(key);
    if (duplicate_ || !is_read(frame.role, lower)) return;
    const auto prefix = frame.role == Role::backend ? frames_.front().last_key + "." : "";
    const auto [it, inserted] = frame.seen.emplace(lower, prefix + key);
    if (!inserted) duplicate_.emplace(it->second, prefix + key);
  }

  std::vector<Frame> frames_;
  std::optional<std::pair<std::string, std::string>> duplicate_;
};

class NetConfParser {
 public:
  explicit NetConfParser(const std::string& path) : path_(path) {}

  NetConf parse(std::string_view content) {
    const Json document = parse_json(content);
    if (!document.is_object()) {
      fail(path_ + ": top level is " + a_type(document) + " " + shown_json(document) +
           "; expected a JSON object such as " + std::string(kNetConfExample));
    }
    NetConf result;
    result.backend_type = "udp";  // flanneld's default when there is no Backend
    for (const auto& [key, value] : document.items()) {
      if (value.is_null()) continue;  // Go leaves the field at its default
      const auto lower = lowercase(key);
      if (lower == "network") {
        result.network = cidr(
            key, value, {Family::ipv4, CidrRole::network, "\"10.244.0.0/16\"", "\"IPv6Network\""});
      } else if (lower == "ipv6network") {
        result.ipv6_network = cidr(
            key, value, {Family::ipv6, CidrRole::network, "\"fd00:10:244::/56\"", "\"Network\""});
      } else if (lower == "enableipv4") {
        result.enable_ipv4 = boolean(key, value);
      } else if (lower == "enableipv6") {
        result.enable_ipv6 = boolean(key, value);
      } else if (lower == "enablenftables") {
        result.enable_nftables = boolean(key, value);
      } else if (lower == "backend") {
        result.backend_type = backend_type(key, value);
      }
    }
    return result;
  }

 private:
  [[noreturn]] void fail_key(std::string_view key, std::string_view what,
                             std::string_view expected) const {
    fail(path_ + ": " + std::string(key) + ": " + std::string(what) + "; expected " +
         std::string(expected));
  }

  static std::string a_type(const Json& value) {
    const std::string name = value.type_name();
    const bool vowel = name.find_first_of("aeiou") == 0;
    return (vowel ? "an " : "a ") + name;
  }

  Json parse_json(std::string_view content) const {
    if (content.size() > kMaxNetConfBytes) {
      fail(path_ + ": file is " + std::to_string(content.size()) + " bytes, over the " +
           std::to_string(kMaxNetConfBytes) +
           "-byte limit of a ConfigMap; expected a small JSON object such as " +
           std::string(kNetConfExample));
    }
    if (content.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      fail(path_ + ": file is empty; expected a JSON object such as " +
           std::string(kNetConfExample));
    }
    if (const auto at = json_too_deep_at(content, kMaxJsonDepth)) {
      fail(path_ + ": invalid JSON at byte " + std::to_string(*at + 1) +
           ": arrays and objects nest deeper than " + std::to_string(kMaxJsonDepth) +
           " levels; expected a small JSON object such as " + std::string(kNetConfExample));
    }
    DuplicateKeyFinder finder;
    Json document;
    try {
      document = Json::parse(content.begin(), content.end(), std::ref(finder));
    } catch (const Json::parse_error& error) {
      fail_parse(error);
    } catch (const Json::exception& error) {  // e.g. a number too large for a double
      fail(path_ + ": invalid JSON: " + strip_id(error.what()) + "; expected valid JSON such as " +
           std::string(kNetConfExample));
    }
    if (const auto& duplicate = finder.duplicate()) {
      fail_key(duplicate->second,
               "duplicate of key " + duplicate->first +
                   " (keys match without regard to case, as in flanneld)",
               "each key once");
    }
    return document;
  }

  // nlohmann's messages open with an id such as "[json.exception.parse_error.101] " that means
  // nothing to the reader.
  static std::string strip_id(std::string detail) {
    if (detail.starts_with("[json.exception.")) {
      if (const auto bracket = detail.find("] "); bracket != std::string::npos) {
        detail.erase(0, bracket + 2);
      }
    }
    return detail;
  }

  [[noreturn]] void fail_parse(const Json::parse_error& error) const {
    const std::string detail = strip_id(error.what());
    const bool says_expected = detail.find("expected") != std::string::npos;
    fail(path_ + ": invalid JSON at byte " + std::to_string(error.byte) + ": " + detail +
         (says_expected ? "" : "; expected valid JSON such as " + std::string(kNetConfExample)));
  }

  Cidr cidr(const std::string& key, const Json& value, const CidrSpec& spec) const {
    if (!value.is_string()) {
      fail_key(key, shown_json(value) + " is " + a_type(value),
               "a string holding " + cidr_expectation(spec));
    }
    Problem problem;
    const auto result = judge_cidr(value.get_ref<const std::string&>(), spec, problem);
    if (!result) fail_key(key, problem.what, problem.expected);
    return *result;
  }

  bool boolean(const std::string& key, const Json& value) const {
    if (!value.is_boolean()) {
      fail_key(key, shown_json(value) + " is " + a_type(value), "a boolean (true or false)");
    }
    return value.get<bool>();
  }

  std::string backend_type(const std::string& key, const Json& value) const {
    if (!value.is_object()) {
      fail_key(key, shown_json(value) + " is " + a_type(value),
               R"(an object such as {"Type": "vxlan"})");
    }
    std::string type;
    for (const auto& [inner_key, inner] : value.items()) {
      if (lowercase(inner_key) != "type" || inner.is_null()) continue;
      if (!inner.is_string()) {
        fail_key(key + "." + inner_key, shown_json(inner) + " is " + a_type(inner),
                 R"(a string such as "vxlan")");
      }
      type = inner.get<std::string>();
    }
    return type;
  }

  const std::string& path_;
};

// ---- resolving both files -------------------------------------------------------------------

// Everything about one address family that the two files say, and how to name it.
struct FamilySources {
  Family family;
  const std::optional<Cidr>& env_network;
  const std::optional<Cidr>& env_lease;
  std::string_view env_network_key;
  std::string_view env_lease_key;
  const std::optional<Cidr>* conf_network;  // null in etcd mode
  std::string_view conf_network_key;
  std::string_view enabled_by_conf;  // why net-conf enables this family
  std::string_view network_example;
  std::string_view lease_example;
};

class FamilyResolver {
 public:
  FamilyResolver(const FamilySources& sources, const std::string& env_path,
                 const std::string& conf_path)
      : s_(sources), env_path_(env_path), conf_path_(conf_path) {}

  FamilyNetworks resolve() const {
    const Cidr cluster = cluster_network();
    if (!s_.env_lease) {
      fail_env(s_.env_lease_key, "missing",
               "this node's " + family() + " lease, e.g. " + std::string(s_.env_lease_key) + "=" +
                   std::string(s_.lease_example) + " " + enabled_because());
    }
    if (!cluster.contains(*s_.env_lease)) {
      fail_env(s_.env_lease_key,
               "lease " + s_.env_lease->to_string() + " is outside the " + family() +
                   " cluster network " + cluster.to_string() + " (from " + cluster_source() + ")",
               "a lease inside " + cluster.to_string());
    }
    return {cluster, *s_.env_lease};
  }

 private:
  std::string family() const { return std::string(family_name(s_.family)); }

  bool conf_has_network() const { return s_.conf_network && s_.conf_network->has_value(); }

  Cidr cluster_network() const {
    if (s_.env_network && conf_has_network() && *s_.env_network != **s_.conf_network) {
      fail_env(s_.env_network_key,
               s_.env_network->to_string() + " disagrees with " + conf_path_ + ": " +
                   std::string(s_.conf_network_key) + ": " + (*s_.conf_network)->to_string(),
               "the same " + family() + " cluster network in both files (fix one of them)");
    }
    if (s_.env_network) return *s_.env_network;
    if (conf_has_network()) return **s_.conf_network;
    const std::string example = std::string(s_.env_network_key) + "=" +
                                std::string(s_.network_example) + " " + enabled_because();
    if (s_.conf_network) {
      fail_env(s_.env_network_key,
               "missing, and " + conf_path_ + " has no " + std::string(s_.conf_network_key),
               "the " + family() + " cluster network in one of them, e.g. " + example);
    }
    fail_env(s_.env_network_key, "missing",
             "the " + family() + " cluster network, e.g. " + example);
  }

  std::string cluster_source() const {
    if (s_.env_network) return env_path_ + ": " + std::string(s_.env_network_key);
    return conf_path_ + ": " + std::string(s_.conf_network_key);
  }

  std::string enabled_because() const {
    if (s_.conf_network) {
      return "(" + family() + " is enabled by " + conf_path_ + ": " +
             std::string(s_.enabled_by_conf) + ")";
    }
    const auto present = s_.env_network ? s_.env_network_key : s_.env_lease_key;
    return "(" + family() + " is enabled because " + env_path_ + " has " + std::string(present) +
           " and there is no net-conf.json)";
  }

  [[noreturn]] void fail_env(std::string_view key, const std::string& what,
                             const std::string& expected) const {
    fail(env_path_ + ": " + std::string(key) + ": " + what + "; expected " + expected);
  }

  const FamilySources& s_;
  const std::string& env_path_;
  const std::string& conf_path_;
};

}  // namespace

SubnetEnv parse_subnet_env(std::string_view content, const std::string& path) {
  return SubnetEnvParser(path).parse(content);
}

NetConf parse_net_conf(std::string_view content, const std::string& path) {
  return NetConfParser(path).parse(content);
}

NodeConfig resolve_node_config(const SubnetEnv& subnet_env, const std::string& subnet_env_path,
                               const std::optional<NetConf>& net_conf,
                               const std::string& net_conf_path, const RuleOptions& options) {
  const bool ipv4 = net_conf ? net_conf->enable_ipv4 : subnet_env.network || subnet_env.subnet;
  const bool ipv6 =
      net_conf ? net_conf->enable_ipv6 : subnet_env.ipv6_network || subnet_env.ipv6_subnet;
  if (!ipv4 && !ipv6) {
    if (net_conf) {
      fail(net_conf_path +
           ": EnableIPv4, EnableIPv6: both false; expected at least one address family enabled");
    }
    fail(subnet_env_path +
         ": FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK: neither is set and there is no net-conf.json; "
         "expected at least one network, e.g. FLANNEL_NETWORK=10.244.0.0/16");
  }

  NodeConfig config;
  config.options = options;
  if (ipv4) {
    const FamilySources sources{Family::ipv4,      subnet_env.network,
                                subnet_env.subnet, "FLANNEL_NETWORK",
                                "FLANNEL_SUBNET",  net_conf ? &net_conf->network : nullptr,
                                "Network",         "EnableIPv4 is true or absent",
                                "10.244.0.0/16",   "10.244.1.1/24"};
    config.ipv4 = FamilyResolver(sources, subnet_env_path, net_conf_path).resolve();
  }
  if (ipv6) {
    const FamilySources sources{
        Family::ipv6,           subnet_env.ipv6_network,
        subnet_env.ipv6_subnet, "FLANNEL_IPV6_NETWORK",
        "FLANNEL_IPV6_SUBNET",  net_conf ? &net_conf->ipv6_network : nullptr,
        "IPv6Network",          "EnableIPv6 is true",
        "fd00:10:244::/56",     "fd00:10:244:1::1/64"};
    config.ipv6 = FamilyResolver(sources, subnet_env_path, net_conf_path).resolve();
  }
  return config;
}

Mode resolve_mode(std::optional<Mode> flag, const std::optional<NetConf>& net_conf) {
  if (flag) return *flag;
  if (net_conf && net_conf->enable_nftables) return Mode::nftables;
  return Mode::iptables;
}

}  // namespace fnft::state
