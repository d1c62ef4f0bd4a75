// Test main: the usual GoogleTest main, plus removing the namespaces and temp dirs that an
// earlier run left behind when it was killed before its destructors could run.
#include <gtest/gtest.h>
#include <unistd.h>

#include "netns-tests/testkit.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (::geteuid() == 0 && !GTEST_FLAG_GET(list_tests)) fnft::netns_test::remove_stale_namespaces();
  return RUN_ALL_TESTS();
}
