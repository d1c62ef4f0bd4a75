#!/usr/bin/env bash
# Configures and builds flannel-nftd, its tests and benchmarks: the project's own builds,
# warnings as errors (a packager's build leaves FNFT_WERROR off).
#
#   scripts/build.sh              GCC into ./build (BUILD_TYPE, default RelWithDebInfo)
#   scripts/build.sh --sanitize   clang into ./build-sanitize: ASan and UBSan in every target
#                                 (reports are fatal) and the libFuzzer targets of fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
# Options are given every time, so an existing build directory configured otherwise (a
# cached FNFT_BUILD_TESTS=OFF, say) still builds everything the tests and demo need.
common=(-DFNFT_BUILD_TESTS=ON -DFNFT_WERROR=ON)
if [[ ${1:-} == --sanitize ]]; then
  # Debug with -O1: whole stacks in reports, and the netns suite still runs at a useful pace.
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DFNFT_SANITIZE=address,undefined -DFNFT_FUZZ=ON \
    -DFNFT_BUILD_BENCH=OFF "${common[@]}" >/dev/null
  cmake --build build-sanitize -j"$(nproc)"
elif [[ $# -eq 0 ]]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DFNFT_BUILD_BENCH=ON \
    "${common[@]}" >/dev/null
  cmake --build build -j"$(nproc)"
else
  echo "usage: scripts/build.sh [--sanitize]" >&2
  exit 2
fi
