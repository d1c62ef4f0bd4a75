#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests (no privileges), netns
# integration tests (root; each test builds and removes its own namespaces) on this kernel,
# and the fast-path tests and netns suites under the project's 6.1 test kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the netns tests need root (they create network namespaces); run as root" >&2
  exit 1
fi
# The project's test kernel (User-mode Linux 6.1, which has flowtables): built once (~5 min)
# and cached; `ctest -L uml` runs the fast-path tests and the netns suites in it.
netns-tests/kernel/uml.sh build
cd build
# --no-tests=error: a build that lost its tests must fail, not pass quietly.
ctest --output-on-failure --no-tests=error --timeout 600 "$@"
