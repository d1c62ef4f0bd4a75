// What /healthz and /readyz answer in each state the daemon can be in.
#include "daemon/observe/health.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fnft::daemon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

HealthFacts running() {
  HealthFacts facts;
  facts.in_sync = true;
  facts.has_config = true;
  facts.ready = true;
  facts.out_of_sync_allowed = 5s;
  return facts;
}

TEST(Health, InSyncIsHealthyAndReady) {
  EXPECT_EQ(healthz(running()).status, 200u);
  EXPECT_EQ(healthz(running()).body, "ok\n");
  EXPECT_EQ(readyz(running()).status, 200u);
}

TEST(Health, ARepairUnderWayIsHealthyUntilItLastsTooLong) {
  HealthFacts facts = running();
  facts.in_sync = false;
  facts.out_of_sync_for = 4s;
  EXPECT_EQ(healthz(facts).status, 200u);
  EXPECT_EQ(healthz(facts).body, "ok (repairing)\n");
  facts.out_of_sync_for = 7s;
  EXPECT_EQ(healthz(facts).status, 503u);
  EXPECT_EQ(healthz(facts).body, "out of sync for 7 s: a repair has not completed\n");
  EXPECT_EQ(readyz(facts).status, 200u) << "ready once verified, whatever happens later";
}

TEST(Health, TheUnhealthyAnswerSaysWhy) {
  HealthFacts facts = running();
  facts.in_sync = false;
  facts.out_of_sync_for = 30s;
  facts.backing_off = true;
  EXPECT_THAT(healthz(facts).body, HasSubstr("a repair war keeps the rules"));
  facts.failing = "table ip flannel-nftd-ipv4 is owned by another process";
  EXPECT_EQ(healthz(facts).body,
            "out of sync for 30 s: applying the rules fails: table ip flannel-nftd-ipv4 is "
            "owned by another process\n");
  facts = running();
  facts.in_sync = false;
  facts.ready = false;
  facts.out_of_sync_for = 30s;
  EXPECT_THAT(healthz(facts).body, HasSubstr("the first apply has not completed"));
  EXPECT_EQ(readyz(facts).status, 503u);
}

TEST(Health, WaitingForFlanneldsFilesIsHealthyButNotReady) {
  HealthFacts facts;
  facts.out_of_sync_for = 600s;
  facts.out_of_sync_allowed = 5s;
  EXPECT_EQ(healthz(facts).status, 200u);
  EXPECT_EQ(healthz(facts).body, "ok (waiting for a valid configuration)\n");
  EXPECT_EQ(readyz(facts).status, 503u);

  facts = running();
  facts.config_error = "/run/flannel/subnet.env: FLANNEL_SUBNET is missing";
  EXPECT_EQ(readyz(facts).status, 503u);
  EXPECT_EQ(readyz(facts).body,
            "configuration unusable: /run/flannel/subnet.env: FLANNEL_SUBNET is missing\n");
  EXPECT_EQ(healthz(facts).status, 200u) << "the last good rules are still in force";
}

}  // namespace
}  // namespace fnft::daemon
