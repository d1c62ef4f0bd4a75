#!/usr/bin/env bash
# The project's kernel harness: User-mode Linux 6.1, built from Debian's linux-source-6.1 with
# uml.config (flowtables, which the host kernel may lack, and everything the tests use), run
# as an ordinary process: no KVM, no emulation, one vCPU.
#
#   netns-tests/kernel/uml.sh build           builds the kernel once (~5 min on 2 cores) into
#                                             the cache; later calls return at once
#   netns-tests/kernel/uml.sh run CMD [ARGS]  boots it (~2 s), runs CMD as root in the current
#                                             directory and exits with CMD's exit code
#
# In the guest: / is the host's root, read-only; /tmp, /run, /var/tmp and /dev/shm are fresh
# tmpfs; the checkout, the build tree and the current directory are the host's, read-write,
# at the same paths (wherever they are); no network device.
# Exit codes: CMD's; 124 the guest outlived FNFT_UML_TIMEOUT; 125 the harness itself failed.
#
# Environment: FNFT_UML_CACHE (default /var/tmp/flannel-nftd-uml), FNFT_UML_TIMEOUT (s,
# default 900), FNFT_UML_MEM (MiB, default 1536), FNFT_UML_PASSENV (names of variables to
# pass into the guest), FNFT_UML_KEEP=1 (keep the run directory with the guest's console).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
cache=${FNFT_UML_CACHE:-/var/tmp/flannel-nftd-uml}
packages=(linux-source-6.1 build-essential flex bison bc xz-utils kmod)

say() { echo "uml.sh: $*" >&2; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The kernel's name says what it was built from: a change to the config, to how it is built
# (the build function below) or to Debian's source package builds a new one; a change to how
# it is run does not.
kernel_id() {
  local version
  version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo none)
  cat "$here/uml.config" <(declare -f build) <(echo "$version") | sha256sum | cut -c1-16
}

# The host directories the guest sees read-write at their own paths: the checkout, the build
# tree the current directory is in (the directory holding CMakeCache.txt, wherever it is:
# the test binaries start the daemon and tools by absolute paths into it), and the current
# directory. Wherever they are, /tmp included, where the guest's fresh tmpfs would hide them.
shared_directories() {
  local checkout dir
  checkout=$(cd "$here/../.." && pwd -P)
  echo "$checkout"
  dir=$(pwd -P)
  while [[ $dir != / && ! -f $dir/CMakeCache.txt ]]; do dir=$(dirname "$dir"); done
  [[ -f $dir/CMakeCache.txt ]] && echo "$dir"
  pwd -P
}

install_packages() {
  local missing=() package
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  [[ $(id -u) -eq 0 ]] || { say "build needs root (it installs Debian packages)"; exit 125; }
  mkdir -p "$cache"
  exec 8>"$cache/build.lock"
  flock 8  # two test runs at once build once
  install_packages
  local id kernel source log
  id=$(kernel_id)
  kernel="$cache/linux-$id"
  [[ -x $kernel ]] && return 0
  source="$cache/source"
  log="$cache/build.log"
  say "building the test kernel from linux-source-6.1 (once, ~5 min; log: $log)"
  rm -rf "$source" && mkdir -p "$source"
  tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$source" --strip-components=1
  if ! (cd "$source" && make ARCH=um defconfig &&
          scripts/kconfig/merge_config.sh -m .config "$here/uml.config" &&
          make ARCH=um olddefconfig && make ARCH=um -j"$(($(nproc) + 1))" linux) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "the kernel build failed (log: $log)"
    exit 125
  fi
  # A setting whose dependencies are missing silently falls back to off: check each one.
  local line
  while read -r line; do
    [[ $line == CONFIG_* ]] || continue
    if [[ $line == *=n ]]; then
      grep -qx "# ${line%=n} is not set" "$source/.config" || { say "$line did not stick"; exit 125; }
    else
      grep -qx "$line" "$source/.config" || { say "$line did not stick"; exit 125; }
    fi
  done <"$here/uml.config"
  cp "$source/linux" "$kernel.tmp" && mv "$kernel.tmp" "$kernel"
  find "$cache" -maxdepth 1 -name 'linux-*' ! -name "linux-$id" -delete
  rm -rf "$source"
  say "built $kernel"
}

run() {
  [[ $# -gt 0 ]] || usage
  [[ $(id -u) -eq 0 ]] || { say "run needs root"; exit 125; }
  local kernel
  kernel="$cache/linux-$(kernel_id)"
  [[ -x $kernel ]] || build
  local run_dir
  run_dir=$(mktemp -d /var/tmp/fnft-uml-run.XXXXXX)
  # shellcheck disable=SC2064
  trap "[[ -n \${FNFT_UML_KEEP:-} ]] && say 'kept $run_dir' || rm -rf '$run_dir'" EXIT
  local shared
  mapfile -t shared < <(shared_directories | sort -u)
  {
    printf 'FNFT_UML_CWD=%q\n' "$(pwd -P)"
    printf 'FNFT_UML_SHARED=('
    printf ' %q' "${shared[@]}"
    printf ' )\n'
  } >"$run_dir/env"
  {
    local name
    for name in ${FNFT_UML_PASSENV:-}; do
      [[ -n ${!name+set} ]] && printf 'export %s=%q\n' "$name" "${!name}"
    done
    printf 'exec'
    printf ' %q' "$@"
    echo
  } >"$run_dir/command"
  # UML keeps the guest's memory in a file under TMPDIR; timeout(1) gives it a process group
  # of its own, which UML's crash path signals as a whole.
  local status=0
  TMPDIR=/dev/shm timeout -k 5 "${FNFT_UML_TIMEOUT:-900}" "$kernel" \
    mem="${FNFT_UML_MEM:-1536}M" rootfstype=hostfs rootflags=/ ro quiet \
    init="$here/guest-init.sh" con=null con0=null,fd:3 con1=null,fd:4 con2=null,fd:5 \
    ssl=null -- "$run_dir" \
    3>"$run_dir/console" 4>&1 5>&2 </dev/null >"$run_dir/uml.log" 2>&1 || status=$?
  if [[ -f $run_dir/exit-code ]]; then
    exit "$(cat "$run_dir/exit-code")"
  fi
  if [[ $status -eq 124 || $status -eq 137 ]]; then
    say "the guest outlived ${FNFT_UML_TIMEOUT:-900} s"
    tail -n 20 "$run_dir/console" >&2 || true
    exit 124
  fi
  say "the guest ended without an exit code (status $status)"
  tail -n 20 "$run_dir/uml.log" "$run_dir/console" >&2 || true
  exit 125
}

case "${1:-}" in
  build) build ;;
  run) shift; run "$@" ;;
  *) usage ;;
esac
