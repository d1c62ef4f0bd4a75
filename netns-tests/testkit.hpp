// The root tests are written in the test kit's words (testkit/: programs, namespaces, the
// flannel node, tracked processes, log readers): one using-directive here rather than a
// qualifier on every run_checked and FlannelNode of the suites.
#pragma once

#include "testkit/daemon_log.hpp"
#include "testkit/eventually.hpp"
#include "testkit/flannel_node.hpp"
#include "testkit/kernel_features.hpp"
#include "testkit/network_namespace.hpp"
#include "testkit/programs.hpp"
#include "testkit/temp_dir.hpp"
#include "testkit/tracked_process.hpp"

namespace fnft::netns_test {
using namespace fnft::testkit;
}  // namespace fnft::netns_test
