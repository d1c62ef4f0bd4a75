#!/usr/bin/env bash
# The README's main job, as a new user first sees it: scripts/demo.sh runs to its end, exits 0,
# and its daemon warns of nothing but the repair war the demo stages on purpose.
#   netns-tests/demo-test.sh FLANNEL_NFTD_BINARY
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
out=$(mktemp /tmp/fnft-demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
"$here/../scripts/demo.sh" --binary "$1" --duration 1 >"$out" 2>&1
status=$?
fail() {
  echo "demo-test: $*" >&2
  cat "$out" >&2
  exit 1
}
[[ $status -eq 0 ]] || fail "demo.sh exited $status"
grep -q "the daemon is still running in namespace" "$out" || fail "the demo's last part did not run"
grep -q "demo: namespaces and files removed" "$out" || fail "the demo did not clean up"
unexpected=$(grep -E '\[flannel-nftd\] [0-9T:.-]+ (warning|error|critical) ' "$out" | grep -v ' warning repair war: ')
[[ -z $unexpected ]] || fail "the daemon said what the demo did not mean to show: $unexpected"
echo "demo-test: demo.sh ran to its end, exit 0, no unexpected warning"
