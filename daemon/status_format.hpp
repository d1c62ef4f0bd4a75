// The daemon's status document (JSON, from the control socket) in words, for people.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace fnft::daemon {

// "2026-12-01T14:50:01Z"
std::string iso_time(std::chrono::system_clock::time_point at);

// Several lines, the first saying whether the kernel holds exactly the desired rules.
std::string format_status(const nlohmann::json& status);

}  // namespace fnft::daemon
