// subnet.env as flanneld writes it, read into SubnetEnv (state::parse_subnet_env).
#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "state/config_parse.hpp"
#include "state/config_text.hpp"

// Decisions not spelled out in config_parse.hpp:
// - subnet.env: keys that do not start with FLANNEL_ (in any case) are ignored; a key that is
//   a known one in the wrong case is an error. Blanks around a key and its value are ignored.
//   Values must be unquoted, as flanneld writes them. A FLANNEL_NETWORK with host bits set is
//   an error (flanneld never writes one); the leases are written with host bits set, so those
//   are cleared. Comma-separated network lists (flanneld's multi-network mode) are rejected.

namespace fnft::state {
namespace {

using namespace config_text;

constexpr std::size_t kMaxSubnetEnvBytes = 64 * 1024;
constexpr int kMinMtu = 68;  // the smallest MTU IPv4 allows (RFC 791)
constexpr int kMaxMtu = 65535;

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

}  // namespace

SubnetEnv parse_subnet_env(std::string_view content, const std::string& path) {
  return SubnetEnvParser(path).parse(content);
}

}  // namespace fnft::state
