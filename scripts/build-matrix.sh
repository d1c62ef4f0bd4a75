#!/usr/bin/env bash
# Builds everything (daemon, tests, benchmarks) in every build type with GCC and with clang,
# warnings as errors, each in its own directory under ${FNFT_MATRIX_DIR:-/var/tmp}, and
# prints one line per build. Exits 1 if any build failed or warned.
#   scripts/build-matrix.sh [BUILD_TYPE...]    default: Debug RelWithDebInfo Release MinSizeRel
set -euo pipefail
cd "$(dirname "$0")/.."
types=("$@")
[[ ${#types[@]} -gt 0 ]] || types=(Debug RelWithDebInfo Release MinSizeRel)
root=${FNFT_MATRIX_DIR:-/var/tmp}/flannel-nftd-matrix
failed=0
for compiler in gcc clang; do
  if [[ $compiler == gcc ]]; then cc=gcc cxx=g++; else cc=clang-14 cxx=clang++-14; fi
  for type in "${types[@]}"; do
    dir="$root/$compiler-$type"
    start=$SECONDS
    if CC=$cc CXX=$cxx cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DFNFT_WERROR=ON \
      -DFNFT_BUILD_TESTS=ON -DFNFT_BUILD_BENCH=ON >"$dir.log" 2>&1 &&
      cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1; then
      warnings=$(grep -c "warning:" "$dir.log" || true)
      echo "build-matrix: $compiler $type: built in $((SECONDS - start)) s, $warnings warning(s)"
      [[ $warnings -eq 0 ]] || failed=1
    else
      echo "build-matrix: $compiler $type: FAILED (log: $dir.log)"
      grep -m5 -E "error|warning:" "$dir.log" || true
      failed=1
    fi
  done
done
exit "$failed"
