#!/usr/bin/env bash
# The guest sees the checkout and the whole build tree of the current directory at their own
# paths even under /tmp, where its fresh tmpfs would hide them: a build tree made under /tmp
# (a CMakeCache.txt and a program beside it), entered in a subdirectory, is seen whole.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
checkout=$(cd "$here/../.." && pwd -P)
tree=$(mktemp -d /tmp/fnft-uml-shared.XXXXXX)
trap 'rm -rf "$tree"' EXIT
touch "$tree/CMakeCache.txt"
mkdir -p "$tree/daemon" "$tree/netns-tests"
printf '#!/bin/sh\necho built\n' >"$tree/daemon/program" && chmod +x "$tree/daemon/program"
cd "$tree/netns-tests"
out=$("$here/uml.sh" run sh -c "test -f '$checkout/CMakeLists.txt' || { echo 'no checkout'; exit 1; }
  '$tree/daemon/program' && touch '$tree/written-by-the-guest'")
[[ $out == built ]] || { echo "shared-directories-test: the guest said: $out" >&2; exit 1; }
[[ -f $tree/written-by-the-guest ]] || { echo "shared-directories-test: the tree was not writable" >&2; exit 1; }
echo "shared-directories-test: the guest sees $checkout and $tree"
