#!/usr/bin/env bash
# The live demo: a throwaway flannel node in network namespaces, flannel-nftd running in it,
# and the things kube-proxy, Calico or an admin do to its tables -- each undone as it happens,
# then, with --protect, refused by the kernel.
#
#   scripts/demo.sh [--duration SECONDS] [--binary PATH]
#       as root; Ctrl-C ends it, everything is removed; --binary runs that flannel-nftd
#       instead of installing and building (the test command's check of the demo uses it)
#
# Nothing outside the namespaces it creates is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=""
daemon_binary=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --binary) daemon_binary="$2"; shift 2 ;;
    --binary=*) daemon_binary="${1#*=}"; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run as root: it creates network namespaces" >&2
  exit 1
fi

if [[ -z "$daemon_binary" ]]; then
  scripts/install-deps.sh
  scripts/build.sh >/dev/null
  daemon_binary=$PWD/build/daemon/flannel-nftd
fi

prefix="fnft-demo-$$"
node="$prefix-node" pod="$prefix-pod" outside="$prefix-outside"
workdir=$(mktemp -d /tmp/fnft-demo.XXXXXX)
daemon_pid=""

cleanup() {
  trap - EXIT INT TERM
  [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  for ns in "$node" "$pod" "$outside"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$workdir"
  echo "demo: namespaces and files removed"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_node() { ip netns exec "$node" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; sleep 0.3; }
settle() { sleep "${1:-1}"; }

say "building a throwaway flannel node: pod 10.244.1.2 -- cni0 10.244.1.1 [node] 192.0.2.1 -- 192.0.2.2 outside"
for ns in "$node" "$pod" "$outside"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up  # the daemon's /metrics listens on the node's 127.0.0.1
done
in_node sysctl -qw net.ipv4.ip_forward=1
in_node ip link add cni0 type bridge
in_node ip addr add 10.244.1.1/24 dev cni0
in_node ip link set cni0 up
ip link add veth-pod netns "$node" type veth peer name eth0 netns "$pod"
in_node ip link set veth-pod master cni0 up
ip -n "$pod" addr add 10.244.1.2/24 dev eth0
ip -n "$pod" link set eth0 up
ip -n "$pod" route add default via 10.244.1.1
ip link add uplink netns "$node" type veth peer name eth0 netns "$outside"
in_node ip addr add 192.0.2.1/24 dev uplink
in_node ip link set uplink up
ip -n "$outside" addr add 192.0.2.2/24 dev eth0
ip -n "$outside" link set eth0 up
# The outside has no route to the pods: only masqueraded traffic gets an answer.

cat >"$workdir/subnet.env" <<ENV
FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.1.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=false
ENV
cat >"$workdir/net-conf.json" <<JSON
{ "Network": "10.244.0.0/16", "EnableNFTables": true, "Backend": { "Type": "vxlan" } }
JSON

# Starts the daemon in the node with `$@` added; its log follows, interleaved.
start_daemon() {
  in_node "$daemon_binary" run --subnet-file "$workdir/subnet.env" \
    --net-config-path "$workdir/net-conf.json" "$@" 2>&1 | sed -u 's/^/    [flannel-nftd] /' &
  settle 1
  daemon_pid=$(ip netns pids "$node" | sed -n 1p)
}

say "starting flannel-nftd in the node, unprotected first (--protect=off): every change is repaired"
start_daemon --protect=off
in_node nft list table ip flannel-nftd-ipv4

ping_outside() {
  if ip netns exec "$pod" ping -c1 -W1 192.0.2.2 >/dev/null; then
    echo "    pod -> outside: reply received (masqueraded to 192.0.2.1)"
  else
    echo "    pod -> outside: NO reply"
  fi
}
say "pod traffic to the outside is masqueraded"
ping_outside

handle_of() { in_node nft -a list chain ip flannel-nftd-ipv4 "$1" | grep -F "$2" | sed 's/.*# handle //'; }

say "an admin deletes one of our rules: nft delete rule ... (the masquerade rule)"
in_node nft delete rule ip flannel-nftd-ipv4 postrtg handle "$(handle_of postrtg 'cluster to outside')"
settle; ping_outside

say "a kube-proxy-like agent inserts a drop rule into our forward chain"
in_node nft insert rule ip flannel-nftd-ipv4 forward ip saddr 10.244.1.2 drop
settle; ping_outside

say "someone changes our forward chain's policy to drop"
in_node nft add chain ip flannel-nftd-ipv4 forward '{ type filter hook forward priority filter; policy drop; }'
settle

say "an admin runs: nft flush ruleset"
in_node nft flush ruleset
settle; ping_outside

say "flanneld gets a new lease (subnet.env replaced by rename, as flanneld does)"
sed 's/10.244.1.1/10.244.7.1/' "$workdir/subnet.env" >"$workdir/subnet.env.tmp"
mv "$workdir/subnet.env.tmp" "$workdir/subnet.env"
settle
in_node nft list chain ip flannel-nftd-ipv4 postrtg | grep -F '10.244.7.0/24' | sed -n 1,2p
sed 's/10.244.7.1/10.244.1.1/' "$workdir/subnet.env" >"$workdir/subnet.env.tmp"
mv "$workdir/subnet.env.tmp" "$workdir/subnet.env"
settle

say "a repair war: a loop deletes our rule over and over for 4 seconds"
end=$((SECONDS + 4))
while [[ $SECONDS -lt $end ]]; do
  h=$(handle_of forward 'forward to cluster' || true)
  [[ -n "$h" ]] && in_node nft delete rule ip flannel-nftd-ipv4 forward handle "$h" 2>/dev/null || true
done
echo "    (the daemon backs off instead of spinning a core; its CPU so far:" \
  "$(ps -o cputime= -p "$daemon_pid" | tr -d ' '))"
settle 3
say "after the war the tables are back"
in_node nft list chain ip flannel-nftd-ipv4 forward
ping_outside

say "restarting it with --protect (the default): the kernel itself refuses the same changes"
kill "$daemon_pid"
while kill -0 "$daemon_pid" 2>/dev/null; do sleep 0.1; done
start_daemon --protect=auto
# grep reads to the end (no -q): under pipefail, nft killed by SIGPIPE would read as "no".
if in_node nft list table ip flannel-nftd-ipv4 | grep 'flags owner' >/dev/null; then
  refused() {
    echo "    \$ nft $*"
    in_node nft "$@" 2>&1 | sed -n 's/^/    /;1p' || true
  }
  refused delete rule ip flannel-nftd-ipv4 postrtg handle "$(handle_of postrtg 'cluster to outside')"
  refused insert rule ip flannel-nftd-ipv4 forward ip saddr 10.244.1.2 drop
  refused delete table ip flannel-nftd-ipv4
  echo "    \$ nft flush ruleset   (succeeds, and leaves our table alone)"
  in_node nft flush ruleset
  in_node nft list table ip flannel-nftd-ipv4 | sed -n 1,3p
  ping_outside
else
  echo "    this kernel lacks \`flags owner, persist\` (Linux 6.9+): changes are repaired instead"
fi

say "the daemon is still running in namespace $node. Try, in another terminal:"
echo "    ip netns exec $node nft flush ruleset"
echo "    ip netns exec $node nft list ruleset"
if [[ -n "$duration" ]]; then
  echo "    (ending in $duration s)"
  sleep "$duration"
else
  echo "    (Ctrl-C ends the demo and removes everything)"
  while kill -0 "$daemon_pid" 2>/dev/null; do sleep 1; done
fi
