#include "daemon/cli/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "daemon/config/options.hpp"

namespace fnft::daemon {
namespace {

// systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected to stderr.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat info {};
  if (::fstat(STDERR_FILENO, &info) != 0) return false;
  const std::string expected = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
  return expected == stream;
}

}  // namespace

void setup_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw UsageError("--log-level: \"" + level +
                     "\" is not a level; expected trace, debug, info, warn, error");
  }
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    logger = std::make_shared<spdlog::logger>(
        "flannel-nftd", std::make_shared<spdlog::sinks::systemd_sink_st>("flannel-nftd"));
    logger->set_pattern("%v");
  } else {
    logger = std::make_shared<spdlog::logger>("flannel-nftd",
                                              std::make_shared<spdlog::sinks::stderr_sink_st>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace fnft::daemon
