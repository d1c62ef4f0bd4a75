// /healthz and /readyz, from what the daemon knows of itself at the moment of the request.
// Pure: NodeDaemon fills HealthFacts on the reactor.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "daemon/observe/http_server.hpp"

namespace fnft::daemon {

struct HealthFacts {
  bool in_sync = false;     // the kernel holds the target, as far as the events tell
  bool has_config = false;  // a valid configuration was ever read
  bool ready = false;       // the first apply landed and read back equal
  std::chrono::steady_clock::duration out_of_sync_for{};
  std::chrono::steady_clock::duration out_of_sync_allowed{};  // --health-out-of-sync
  std::optional<std::string> failing;       // the error of the apply that keeps failing
  bool backing_off = false;                 // a repair war is being throttled
  std::optional<std::string> config_error;  // the files' error, while they have one
};

// 200 unless the rules stay out of sync longer than allowed: a repair under way is the
// daemon doing its job, and waiting for flanneld's files is no reason to restart it.
HttpResponse healthz(const HealthFacts& facts);
// 200 once the first apply is verified, 503 before and while the files cannot be used.
HttpResponse readyz(const HealthFacts& facts);

}  // namespace fnft::daemon
