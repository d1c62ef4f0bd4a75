// What `flannel-nftd status` says, and its exit code, from the daemon's document.
#include "daemon/observe/status_format.hpp"

#include <gmock/gmock.h>

namespace fnft::daemon {
namespace {

using testing::HasSubstr;
using testing::StartsWith;

nlohmann::json in_sync_document() {
  return {{"mode", "nftables"},
          {"in_sync", true},
          {"ready", true},
          {"in_sync_since", "2026-12-03T05:00:00Z"}};
}

TEST(StatusFormat, RulesInPlaceForTheFilesAsTheyAreAreCurrent) {
  const auto status = in_sync_document();
  EXPECT_TRUE(status_is_current(status));
  EXPECT_THAT(format_status(status), StartsWith("in sync: the kernel holds exactly the desired"));
}

// The files changed, then could not be read: the kernel still holds the old lease's rules.
TEST(StatusFormat, RulesOfTheLastGoodConfigurationAreNotCurrentWhileTheFilesCannotBeUsed) {
  auto status = in_sync_document();
  status["config_error"] = "/run/flannel/subnet.env: cannot open: Too many open files";
  EXPECT_FALSE(status_is_current(status));
  const std::string text = format_status(status);
  EXPECT_THAT(text, StartsWith("NOT in sync with the configuration files"));
  EXPECT_THAT(text, HasSubstr("configuration files: /run/flannel/subnet.env: cannot open: Too "
                              "many open files (the last good configuration stays in force)"));
}

TEST(StatusFormat, ADaemonNotYetInSyncIsNotCurrent) {
  auto status = in_sync_document();
  status["in_sync"] = false;
  status["ready"] = false;
  EXPECT_FALSE(status_is_current(status));
  EXPECT_THAT(format_status(status), StartsWith("NOT in sync: the daemon has not applied"));
}

}  // namespace
}  // namespace fnft::daemon
