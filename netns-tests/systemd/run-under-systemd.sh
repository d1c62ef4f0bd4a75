#!/usr/bin/env bash
# Boots systemd as PID 1 in a container (systemd-nspawn, Debian's systemd-container) whose
# root is this machine's own, overlaid with a tmpfs that vanishes afterwards, with a network
# namespace of its own; installs the package there and runs unit-test.sh as the boot's only
# job. Nothing of this machine changes: not its ruleset, links, dpkg database or /etc.
#
#   run-under-systemd.sh PACKAGE.deb
#
# Exit code: unit-test.sh's (0 when every check passed), 125 if the container did not run.
# FNFT_SYSTEMD_KEEP=1 keeps the container's files (its journal: journalctl -D DIR/var/log/journal).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
package=$(readlink -f "$1")
[[ -f $package ]] || { echo "run-under-systemd: no package at $1" >&2; exit 125; }
command -v systemd-nspawn >/dev/null || {
  echo "run-under-systemd: systemd-nspawn is missing (apt-get install systemd-container)" >&2
  exit 125
}

work=$(mktemp -d /var/tmp/flannel-nftd-systemd.XXXXXX)
root="$work/root"
nspawn_pid=""
cleanup() {
  [[ -n $nspawn_pid ]] && kill "$nspawn_pid" 2>/dev/null && wait "$nspawn_pid" 2>/dev/null
  # What the test printed, from the container's journal (its console is PID 1's).
  if [[ -d $work/layer/upper/var/log/journal ]]; then
    journalctl -D "$work/layer/upper/var/log/journal" -q -o cat -u fnft-unit-test.service
  fi
  mountpoint -q "$root" && umount "$root"
  if [[ ${FNFT_SYSTEMD_KEEP:-} == 1 ]]; then
    cp -a "$work/layer/upper" "$work/kept"
    echo "run-under-systemd: the container's files are in $work/kept" >&2
  else
    rm -rf "$work/kept"
  fi
  mountpoint -q "$work/layer" && umount "$work/layer"
  [[ ${FNFT_SYSTEMD_KEEP:-} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$root" "$work/layer"
mount -t tmpfs -o mode=0755 tmpfs "$work/layer"
mkdir -p "$work/layer/upper" "$work/layer/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/layer/upper,workdir=$work/layer/work" "$root"

# A machine of its own: journald refuses to share the host's machine id.
systemd-id128 new >"$root/etc/machine-id"
mkdir -p "$root/var/log/journal"  # persistent, so the journal outlives the container
mkdir -p "$root/fnft-test"
cp "$package" "$here/unit-test.sh" "$root/fnft-test/"
cat >"$root/etc/systemd/system/fnft-unit-test.service" <<UNIT
[Unit]
Description=flannel-nftd's package and unit, tested under systemd
After=basic.target
[Service]
Type=oneshot
ExecStart=/fnft-test/unit-test.sh /fnft-test/$(basename "$package")
StandardOutput=journal+console
StandardError=journal+console
# The test's verdict is the container's exit code.
ExecStopPost=/bin/sh -c 'systemctl exit \$\$([ "\$\$SERVICE_RESULT" = success ] && echo 0 || echo 1)'
UNIT

# --boot with systemd.unit=: PID 1 starts the test and the units it needs, nothing the
# machine itself enables (databases, timers).
timeout --kill-after=10 600 systemd-nspawn --quiet --directory="$root" --machine=fnft-unit-test \
  --private-network --register=no --keep-unit --console=passive \
  --boot -- systemd.unit=fnft-unit-test.service </dev/null &
nspawn_pid=$!
status=0
wait "$nspawn_pid" || status=$?
nspawn_pid=""
exit "$status"
