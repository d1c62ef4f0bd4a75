#!/usr/bin/env bash
# Builds (if needed) and runs the benchmarks, as root. Each benchmark creates its own
# network namespace and leaves nothing behind; results go to bench/results/ (not committed).
#
#   bench/run-all.sh                     # defaults: apply 200 iterations, repair 1000/type,
#                                        # iptables 50 applies, 100 (legacy 10) repairs/type,
#                                        # broken_flows 20 windows per mode and mutation,
#                                        # flowtable 5 rounds (under the 6.1 test kernel)
#   BUILD_DIR=build-bench bench/run-all.sh --repair-args "--iterations 200"
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
apply_args=()
repair_args=()
iptables_args=()
broken_flows_args=()
flowtable_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --apply-args) read -r -a apply_args <<<"$2"; shift 2 ;;
    --repair-args) read -r -a repair_args <<<"$2"; shift 2 ;;
    --iptables-args) read -r -a iptables_args <<<"$2"; shift 2 ;;
    --broken-flows-args) read -r -a broken_flows_args <<<"$2"; shift 2 ;;
    --flowtable-args) read -r -a flowtable_args <<<"$2"; shift 2 ;;
    -h|--help)
      sed -n '2,7p' "$0"
      exit 0 ;;
    *) echo "run-all.sh: unknown argument $1 (use --apply-args/--repair-args/--iptables-args/--broken-flows-args/--flowtable-args \"...\")" >&2; exit 2 ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  echo "run-all.sh: the benchmarks need root (they create network namespaces)" >&2
  exit 1
fi
for tool in nft iptables-nft-restore ip6tables-nft-restore; do
  command -v "$tool" >/dev/null || { echo "run-all.sh: $tool is missing (apt-get install nftables iptables)" >&2; exit 1; }
done

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" >/dev/null
fi
cmake --build "$build_dir" -j"$(nproc)" --target fnft_bench_apply fnft_bench_repair \
  fnft_bench_iptables fnft_bench_broken_flows fnft_bench_flowtable

start=$SECONDS
"$build_dir/bench/apply" "${apply_args[@]}"
echo "apply benchmark: $((SECONDS - start)) s"
echo
start=$SECONDS
"$build_dir/bench/repair" "${repair_args[@]}"
echo "repair benchmark: $((SECONDS - start)) s"
echo
start=$SECONDS
"$build_dir/bench/iptables" "${iptables_args[@]}"
echo "iptables benchmark: $((SECONDS - start)) s"
echo
start=$SECONDS
"$build_dir/bench/broken_flows" "${broken_flows_args[@]}"
echo "broken_flows benchmark: $((SECONDS - start)) s"
echo
# This kernel may lack flowtables; the fast path is measured under the project's 6.1 kernel
# (built once, cached), with this checkout and build shared into it.
start=$SECONDS
netns-tests/kernel/uml.sh build
netns-tests/kernel/uml.sh run "$build_dir/bench/flowtable" "${flowtable_args[@]}"
echo "flowtable benchmark: $((SECONDS - start)) s"
