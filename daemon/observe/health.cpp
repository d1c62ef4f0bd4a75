#include "daemon/observe/health.hpp"

namespace fnft::daemon {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

}  // namespace

HttpResponse healthz(const HealthFacts& facts) {
  // An answer at all means the reactor turns.
  if (facts.in_sync) return {200, kText, "ok\n"};
  if (!facts.has_config) return {200, kText, "ok (waiting for a valid configuration)\n"};
  if (facts.out_of_sync_for < facts.out_of_sync_allowed)
    return {200, kText, facts.ready ? "ok (repairing)\n" : "ok (applying)\n"};
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(facts.out_of_sync_for).count();
  const std::string why = facts.failing ? "applying the rules fails: " + *facts.failing
                          : facts.backing_off
                              ? std::string("a repair war keeps the rules from staying in place")
                          : facts.ready ? std::string("a repair has not completed")
                                        : std::string("the first apply has not completed");
  return {503, kText, "out of sync for " + std::to_string(seconds) + " s: " + why + "\n"};
}

HttpResponse readyz(const HealthFacts& facts) {
  if (facts.config_error)
    return {503, kText, "configuration unusable: " + *facts.config_error + "\n"};
  if (!facts.ready)
    return {503, kText, "not ready: the rules have not been applied and verified yet\n"};
  return {200, kText, "ready\n"};
}

}  // namespace fnft::daemon
