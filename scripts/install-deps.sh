#!/usr/bin/env bash
# Installs, from Debian's packages, whatever flannel-nftd needs to build, test and run its
# demo. Idempotent and quiet when everything is already there.
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libmnl-dev libnftnl-dev libnl-3-dev libnl-route-3-dev libnetfilter-conntrack-dev
  libspdlog-dev libboost-dev libboost-program-options-dev nlohmann-json3-dev libsystemd-dev
  libgtest-dev libgmock-dev
  # tests, demo and benchmarks: the real tools play the other components
  nftables iptables iproute2 iputils-ping procps conntrack iperf3 ethtool
  # strace: a test traces every program the daemon runs (the nftables mode runs none);
  # socat: an unprivileged process squatting the daemon's abstract socket name
  strace socat
  # the real CNI plugins (bridge, host-local, portmap) create the tests' pods as kubelet would
  containernetworking-plugins
  # /metrics scraped by a real Prometheus (and promtool), /healthz read by curl
  prometheus curl
  # systemd-socket-activate plays systemd passing the metrics socket (flannel-nftd.socket)
  systemd
  # the second toolchain: clang with ASan, UBSan and libFuzzer (scripts/build.sh --sanitize)
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # the Debian package and its checks, and systemd as PID 1 in a container for the unit's test
  dpkg-dev file help2man lintian man-db systemd-container
  # the kernel harness (netns-tests/kernel/uml.sh) installs what building its kernel needs
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
