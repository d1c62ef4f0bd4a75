// Test main of netns_daemon_tests: the same as netns_tests' main.cpp, which removes
// namespaces that an earlier run left behind when it was killed before its destructors ran.
// (Daemons and committers that run died with it: they are started with PR_SET_PDEATHSIG.)
#include <gtest/gtest.h>
#include <unistd.h>

#include "netns-tests/testkit.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (::geteuid() == 0 && !GTEST_FLAG_GET(list_tests)) fnft::netns_test::remove_stale_namespaces();
  return RUN_ALL_TESTS();
}
