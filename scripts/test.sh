#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests (no privileges) and
# netns integration tests (root; each test builds and removes its own namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the netns tests need root (they create network namespaces); run as root" >&2
  exit 1
fi
cd build
# --no-tests=error: a build that lost its tests must fail, not pass quietly.
ctest --output-on-failure --no-tests=error --timeout 600 "$@"
