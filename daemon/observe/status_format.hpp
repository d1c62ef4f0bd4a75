// The daemon's status document (JSON, from the control socket) in words, for people.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace fnft::daemon {

// "2026-12-01T14:50:01Z"
std::string iso_time(std::chrono::system_clock::time_point at);

// The control socket's answer as a JSON object. Throws nlohmann::json::exception when it is
// not one: malformed, not an object, or nested deeper than any status document (which the
// printing below would recurse through).
nlohmann::json parse_status_document(std::string_view answer);

// Whether the kernel holds exactly the rules of the configuration files as they are now:
// rules of the last good configuration, kept while the files cannot be used, are not.
bool status_is_current(const nlohmann::json& status);

// Several lines, the first saying whether the kernel holds exactly the desired rules.
std::string format_status(const nlohmann::json& status);

}  // namespace fnft::daemon
