// The GoogleTest fixture every netns test derives from.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <ostream>

#include "netns-tests/testkit.hpp"

namespace fnft::netns_test {

// Skips without root (the tests build namespaces), and owns the test's FlannelNode.
// TearDown destroys it explicitly: by then the test body's locals (servers, monitors) are
// gone, so no process keeps a namespace alive, and a failed ASSERT leaks nothing.
class NetnsTest : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: each test builds network namespaces";
  }
  void TearDown() override { node_.reset(); }

  FlannelNode& make_node(Stack stack, PodLinks pod_links = PodLinks::made_here) {
    node_ = std::make_unique<FlannelNode>(stack, pod_links);
    return *node_;
  }

 private:
  std::unique_ptr<FlannelNode> node_;
};

template <typename Param>
class NetnsParamTest : public NetnsTest, public testing::WithParamInterface<Param> {};

// GoogleTest prints parameters with this (instead of their bytes).
inline void PrintTo(Stack stack, std::ostream* out) {
  *out << to_string(stack);
}

inline std::string stack_name(const testing::TestParamInfo<Stack>& info) {
  return to_string(info.param);
}

inline const auto kAllStacks = testing::Values(Stack::ipv4, Stack::ipv6, Stack::dual);

}  // namespace fnft::netns_test
