#!/usr/bin/env bash
# Configures and builds flannel-nftd, its tests and benchmarks into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Options are given every time, so an existing build directory configured otherwise (a
# cached FNFT_BUILD_TESTS=OFF, say) still builds everything the tests and demo need.
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DFNFT_BUILD_TESTS=ON -DFNFT_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)"
