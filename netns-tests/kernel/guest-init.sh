#!/bin/bash
# PID 1 of the project's User-mode Linux guest (see uml.sh). The guest's root is the host's
# root over hostfs, read-only; this gives it fresh tmpfs where programs write (/tmp, /run,
# /var/tmp, /dev/shm), the checkout, the build tree and the current directory read-write at
# their own paths (uml.sh's shared_directories), runs the command uml.sh wrote
# with the guest's stdout/stderr on the host's, records its exit code, and powers off.
# Arguments (from the kernel command line): the per-run directory on the host.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
run_dir=$1

halt_now() {
  sync
  echo o >/proc/sysrq-trigger
  sleep 60
}
fail() {
  echo "guest-init: $*" >/dev/console
  halt_now
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/shm
for dir in /tmp /run /var/tmp /dev/shm; do
  mount -t tmpfs -o mode=1777 tmpfs "$dir" || fail "tmpfs $dir"
done
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
ln -sf /proc/self/fd /dev/fd
mkdir -p /run/fnft-uml && mount -t hostfs -o "$run_dir" none /run/fnft-uml || fail "hostfs $run_dir"
source /run/fnft-uml/env || fail "no $run_dir/env"
# Sorted, so a directory inside another is visible through it already and is skipped.
mounted=()
for dir in "${FNFT_UML_SHARED[@]}"; do
  for parent in "${mounted[@]}"; do [[ $dir == "$parent" || $dir == "$parent"/* ]] && continue 2; done
  mkdir -p "$dir" && mount -t hostfs -o "$dir" none "$dir" || fail "hostfs $dir"
  mounted+=("$dir")
done
ip link set lo up
# con1 and con2 are the host's stdout and stderr; raw, so output is passed on unchanged.
stty -F /dev/tty1 raw -echo
stty -F /dev/tty2 raw -echo
cd "$FNFT_UML_CWD" || fail "cd $FNFT_UML_CWD"
env -i PATH="$PATH" HOME=/root TERM=dumb LANG=C.UTF-8 FNFT_UML_GUEST=1 \
  bash /run/fnft-uml/command </dev/null >/dev/tty1 2>/dev/tty2
echo $? >/run/fnft-uml/exit-code
stty -F /dev/tty1 raw
stty -F /dev/tty2 raw
halt_now
