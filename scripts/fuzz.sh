#!/usr/bin/env bash
# Runs the libFuzzer targets of the sanitizer build (scripts/build.sh --sanitize), each for a
# bounded time over its seed corpus in fuzz/corpus/<target>/, and prints what each reached.
#
#   scripts/fuzz.sh [SECONDS [TARGET...]]   default: 20 s each, every target
#   scripts/fuzz.sh 3600 nft_dump           a long run of one target
#
# New inputs go to a scratch corpus, not into the repository; a crash, a sanitizer report, a
# timeout or an out-of-memory stops the run with the input saved under the scratch directory,
# and this script fails naming it. Keep such an input in fuzz/corpus/<target>/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build=${FNFT_SANITIZE_BUILD:-build-sanitize}
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=()
  for corpus in fuzz/corpus/*/; do targets+=("$(basename "$corpus")"); done
fi
scratch=$(mktemp -d /tmp/flannel-nftd-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
failed=()
printf '%-14s %10s %8s %12s %6s %9s\n' target runs exec/s "cov (edges)" "%" corpus
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  if [[ ! -x $binary ]]; then
    echo "fuzz.sh: $binary is missing: run scripts/build.sh --sanitize first" >&2
    exit 1
  fi
  mkdir -p "$scratch/$target/corpus" "$scratch/$target/artifacts"
  log="$scratch/$target.log"
  if ! ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$binary" "$scratch/$target/corpus" "fuzz/corpus/$target" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$scratch/$target/artifacts/" >"$log" 2>&1; then
    failed+=("$target")
    kept="/tmp/flannel-nftd-fuzz-$target.log"
    cp "$log" "$kept"
    for artifact in "$scratch/$target/artifacts/"*; do
      [[ -e $artifact ]] && cp "$artifact" "/tmp/flannel-nftd-fuzz-$target-$(basename "$artifact")"
    done
    echo "fuzz.sh: $target failed; its log is $kept, the input /tmp/flannel-nftd-fuzz-$target-*" >&2
    grep -m5 -E "ERROR|SUMMARY|deadly|panic" "$log" >&2 || true
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  edges=$(grep -oE '^#[0-9]+[[:space:]]+DONE[[:space:]]+cov: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  total=$(grep -oE 'Loaded 1 modules +\([0-9]+ inline 8-bit counters' "$log" | grep -oE '\([0-9]+' | tr -d '(' || echo 0)
  units=$(find "$scratch/$target/corpus" "fuzz/corpus/$target" -type f | wc -l)
  percent=$(awk -v e="$edges" -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * e / t : 0 }')
  printf '%-14s %10s %8s %12s %6s %9s\n' "$target" "$runs" "$rate" "$edges/$total" "$percent" "$units"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
