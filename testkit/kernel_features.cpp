#include "testkit/kernel_features.hpp"

#include "testkit/network_namespace.hpp"

namespace fnft::testkit {

bool kernel_has_flowtables() {
  const Namespace scratch(unique_prefix() + "probe");
  return scratch
      .run({"nft", "-f", "-"}, "table ip t {\n  flowtable f { hook ingress priority 0; }\n}\n")
      .ok();
}

}  // namespace fnft::testkit
