// What the running kernel can do, asked with the real tools in a scratch namespace: tests and
// benchmarks that need a feature say so by name instead of failing on its absence.
#pragma once

namespace fnft::testkit {

// nftables flowtables (CONFIG_NF_FLOW_TABLE).
bool kernel_has_flowtables();

}  // namespace fnft::testkit
