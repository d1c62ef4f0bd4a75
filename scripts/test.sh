#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#  1. a GCC Release build (./build): unit tests (no privileges), netns integration tests
#     (root; each test builds and removes its own namespaces) on this kernel, the fast-path
#     tests and netns suites under the project's 6.1 test kernel, and the Debian package
#     (built, checked by lintian, installed and run by a real systemd as PID 1);
#  2. a clang build with ASan and UBSan (./build-sanitize): the unit and netns suites again,
#     where any sanitizer report from any process, the daemon included, fails the run;
#  3. every libFuzzer target for ${FNFT_FUZZ_SECONDS:-15} s over its seed corpus.
# Arguments go to the first ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_TYPE=Release scripts/build.sh
scripts/build.sh --sanitize
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the netns tests need root (they create network namespaces); run as root" >&2
  exit 1
fi
# The project's test kernel (User-mode Linux 6.1, which has flowtables): built once (~5 min)
# and cached; `ctest -L uml` runs the fast-path tests and the netns suites in it.
netns-tests/kernel/uml.sh build

# --no-tests=error: a build that lost its tests must fail, not pass quietly.
(cd build && ctest --output-on-failure --no-tests=error --timeout 600 "$@")

# Reports go to files, so one from a daemon a test started (whose stderr the test may never
# show) fails the run as surely as one from the test itself.
reports=$(mktemp -d /tmp/flannel-nftd-sanitizers.XXXXXX)
(
  cd build-sanitize
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:log_path=$reports/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
  ctest --output-on-failure --no-tests=error --timeout 900 -L '^(unit|netns)$'
)
if compgen -G "$reports/*" >/dev/null; then
  echo "test.sh: sanitizer reports (kept in $reports):" >&2
  head -n 40 "$reports"/* >&2
  exit 1
fi
rm -rf "$reports"

scripts/fuzz.sh "${FNFT_FUZZ_SECONDS:-15}"
