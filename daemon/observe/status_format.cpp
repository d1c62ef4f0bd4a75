#include "daemon/observe/status_format.hpp"

#include <ctime>

#include "state/json_depth.hpp"

namespace fnft::daemon {
namespace {

std::string text_of(const nlohmann::json& value, const char* key, const std::string& absent = "") {
  const auto it = value.find(key);
  if (it == value.end() || it->is_null()) return absent;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string family_line(const nlohmann::json& config, const char* key, const char* name) {
  if (!config.contains(key)) return "";
  const auto& family = config[key];
  return std::string(name) + " " + text_of(family, "network") + " lease " +
         text_of(family, "lease");
}

// A status document nests four levels deep.
constexpr std::size_t kMaxStatusDepth = 16;

}  // namespace

nlohmann::json parse_status_document(std::string_view answer) {
  if (const auto at = state::json_too_deep_at(answer, kMaxStatusDepth)) {
    throw nlohmann::json::parse_error::create(
        101, *at + 1, "arrays and objects nest deeper than a status document's", nullptr);
  }
  nlohmann::json status = nlohmann::json::parse(answer);
  if (!status.is_object()) {
    throw nlohmann::json::type_error::create(302, "the answer is not a JSON object", nullptr);
  }
  return status;
}

std::string iso_time(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

bool status_is_current(const nlohmann::json& status) {
  return status.value("in_sync", false) && !status.contains("config_error");
}

std::string format_status(const nlohmann::json& status) {
  std::string out;
  const bool in_sync = status.value("in_sync", false);
  const std::string mode = text_of(status, "mode", "no");
  if (in_sync && status.contains("config_error")) {
    out +=
        "NOT in sync with the configuration files, which cannot be used (below): the kernel "
        "holds the last good configuration's rules (" +
        mode + " mode) since " + text_of(status, "in_sync_since") + "\n";
  } else if (in_sync) {
    out += "in sync: the kernel holds exactly the desired rules (" + mode + " mode) since " +
           text_of(status, "in_sync_since") + "\n";
  } else if (!status.value("ready", false)) {
    out +=
        "NOT in sync: the daemon has not applied and verified its rules yet (" + mode + " mode)\n";
  } else {
    out += "NOT in sync: " +
           (status.contains("last_error") ? "applying fails: " + text_of(status, "last_error")
                                          : std::string("a change by another process is being "
                                                        "repaired")) +
           "\n";
  }
  out +=
      "  daemon: pid " + text_of(status, "pid") + ", started " + text_of(status, "started") + "\n";
  if (status.contains("config")) {
    const auto& config = status["config"];
    std::string families = family_line(config, "ipv4", "IPv4");
    const std::string v6 = family_line(config, "ipv6", "IPv6");
    if (!v6.empty()) families += (families.empty() ? "" : "; ") + v6;
    out += "  config: " + families + "; masquerade " +
           (config.value("ip_masq", false)
                ? std::string(config.value("masquerade_fully_random", false) ? "on (fully-random)"
                                                                             : "on")
                : std::string("off")) +
           ", forward rules " + (config.value("forward_rules", false) ? "on" : "off") + "\n";
    out += "    from " + text_of(config, "subnet_file") + " and " +
           text_of(config, "net_config_path") + "\n";
  }
  if (status.contains("kernel")) {
    const auto& kernel = status["kernel"];
    out += "  kernel: table protection " + text_of(kernel, "table_protection") + "; flowtables " +
           text_of(kernel, "flowtables") + "\n";
  }
  if (status.contains("fast_path")) {
    const auto& devices = status["fast_path"]["devices"];
    std::string names;
    for (std::size_t i = 0; i < devices.size() && i < 8; ++i)
      names += (i == 0 ? "" : ", ") + devices[i].get<std::string>();
    if (devices.size() > 8) names += ", ...";
    out += "  fast path: " + std::to_string(devices.size()) + " device(s): " + names + "\n";
  }
  out += "  repairs: " + text_of(status, "repairs", "0") + "; commits by others to our rules " +
         text_of(status, "foreign_commits", "0") + ", to other tables " +
         text_of(status, "unrelated_commits", "0") + "\n";
  if (status.contains("recent_repairs")) {
    for (const auto& repair : status["recent_repairs"]) {
      out += "    " + text_of(repair, "at") + " after " + text_of(repair, "cause") + ": " +
             text_of(repair, "changes") + " change(s) in " + text_of(repair, "micros") + " us\n";
    }
  }
  if (status.contains("repair_war")) {
    const auto& war = status["repair_war"];
    out += "  repair war: " +
           (war.value("active", false)
                ? "yes, waiting " + text_of(war, "backoff_ms") + " ms between repairs"
                : std::string("no")) +
           " (" + text_of(war, "delayed_repairs", "0") + " repair(s) delayed so far)\n";
  }
  out +=
      "  event overruns (ENOBUFS, each a full resync): " + text_of(status, "event_overruns", "0") +
      "; datagrams from other processes dropped: " +
      text_of(status, "foreign_datagrams_dropped", "0") + "\n";
  if (status.contains("connections_reset") && status["connections_reset"].is_object()) {
    std::string reset;
    for (const auto& [family, count] : status["connections_reset"].items())
      reset += (reset.empty() ? "" : ", ") + family + " " +
               text_of(status["connections_reset"], family.c_str());
    out +=
        "  connections that missed masquerade, reset: " + (reset.empty() ? "none" : reset) + "\n";
  }
  out += "  failed applies: " + text_of(status, "failed_applies", "0");
  if (status.contains("last_error")) out += "; last error: " + text_of(status, "last_error");
  out += "\n";
  if (status.contains("rules")) {
    out += "  rules, as the kernel holds them (packets, bytes):\n";
    for (const auto& rule : status["rules"]) {
      out += "    " + text_of(rule, "table") + " " + text_of(rule, "chain") + ": " +
             text_of(rule, "comment") + ": " + text_of(rule, "packets", "0") + ", " +
             text_of(rule, "bytes", "0") + "\n";
    }
  }
  if (status.contains("rules_error")) {
    out += "  rules' counters: cannot be read: " + text_of(status, "rules_error") + "\n";
  }
  if (status.contains("config_error")) {
    out += "  configuration files: " + text_of(status, "config_error") +
           " (the last good configuration stays in force)\n";
  }
  if (status.contains("warnings")) {
    for (const auto& warning : status["warnings"]) {
      out += "  warning: " + warning.get<std::string>() + "\n";
    }
  }
  return out;
}

}  // namespace fnft::daemon
