// Logs for a systemd service: straight to the journal with proper priorities when started
// by systemd, else to stderr with timestamps.
#pragma once

#include <string>

namespace fnft::daemon {

// Throws UsageError for an unknown level name.
void setup_logging(const std::string& level);

}  // namespace fnft::daemon
