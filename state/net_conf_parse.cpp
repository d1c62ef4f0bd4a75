// net-conf.json as the kube-flannel ConfigMap holds it, read into NetConf (state::parse_net_conf).
#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "state/config_parse.hpp"
#include "state/config_text.hpp"
#include "state/json_depth.hpp"

// Decisions not spelled out in config_parse.hpp:
// - net-conf.json: a JSON null counts as absent (Go leaves the field at its default), two keys
//   we read that match without regard to case are an error rather than "last wins", and the
//   file is limited to 1 MiB (the most a ConfigMap holds).
// - net-conf.json may nest at most kMaxJsonDepth arrays/objects: nlohmann-json parses
//   iteratively but prints recursively, so a 100,000-level value in an error message would
//   overflow the stack. flanneld's files nest three levels deep.

namespace fnft::state {
namespace {

using namespace config_text;
using Json = nlohmann::json;

constexpr std::size_t kMaxNetConfBytes = 1024 * 1024;
constexpr std::size_t kMaxJsonDepth = 64;
constexpr std::string_view kNetConfExample =
    R"({"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}})";

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

}  // namespace

NetConf parse_net_conf(std::string_view content, const std::string& path) {
  return NetConfParser(path).parse(content);
}

}  // namespace fnft::state
