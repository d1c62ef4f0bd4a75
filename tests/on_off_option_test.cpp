// The on|off switches of `run` (--conntrack-reset): both spellings, and a clear refusal.
#include <gtest/gtest.h>

#include "daemon/config/options.hpp"

namespace fnft::daemon {
namespace {

TEST(OnOffOption, TakesOnOffAndTheirBooleanSpellings) {
  EXPECT_TRUE(parse_on_off("--conntrack-reset", "on"));
  EXPECT_TRUE(parse_on_off("--conntrack-reset", "true"));
  EXPECT_FALSE(parse_on_off("--conntrack-reset", "off"));
  EXPECT_FALSE(parse_on_off("--conntrack-reset", "false"));
}

TEST(OnOffOption, RefusesAnythingElseNamingTheOption) {
  try {
    parse_on_off("--conntrack-reset", "sometimes");
    ADD_FAILURE() << "\"sometimes\" was accepted";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(),
                 "--conntrack-reset: \"sometimes\" is not a choice; expected on or off");
  }
}

}  // namespace
}  // namespace fnft::daemon
