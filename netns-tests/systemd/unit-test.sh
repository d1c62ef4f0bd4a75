#!/usr/bin/env bash
# Runs inside the container run-under-systemd.sh boots, with systemd as PID 1: installs the
# package, then proves what the unit promises, with systemd itself starting, watching and
# restarting the daemon, and removes the package again.
#   unit-test.sh PACKAGE.deb      (exit 0 when every check passed)
set -uo pipefail
package=$1
unit=flannel-nftd.service
failures=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
prop() { systemctl show -p "$1" --value "$unit"; }
# Waits up to $1 seconds for COMMAND to succeed.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
}
rules_in_place() {
  nft list table ip flannel-nftd-ipv4 2>/dev/null | grep -q 'masquerade' &&
    nft list table ip flannel-nftd-ipv4 | grep -q 'ip saddr 10.244.0.0/16 counter packets [0-9]* bytes [0-9]* accept'
}
is_active() { [[ $(prop ActiveState) == active ]]; }
main_pid_changed_from() { local pid; pid=$(prop MainPID); [[ $pid != 0 && $pid != "$1" ]] && is_active; }

# --- install
check "dpkg -i installs the package" dpkg -i "$package"
paths=$(dpkg -L flannel-nftd)
for path in /usr/sbin/flannel-nftd /lib/systemd/system/flannel-nftd.service \
  /lib/systemd/system/flannel-nftd.socket /etc/default/flannel-nftd \
  /usr/share/man/man8/flannel-nftd.8.gz /usr/share/doc/flannel-nftd/copyright; do
  check "the package installs $path" test -e "$path"
done
check "/etc/default/flannel-nftd is a conffile" \
  grep -q /etc/default/flannel-nftd <(dpkg-query -W -f='${Conffiles}' flannel-nftd)
check "man flannel-nftd shows the page" bash -c 'man -P cat flannel-nftd 2>/dev/null | grep -q "VERB RUN"'

# Faster watchdog than the shipped 30 s, so the test waits seconds, not half a minute.
mkdir -p /etc/systemd/system/$unit.d
printf '[Service]\nWatchdogSec=3\n' >/etc/systemd/system/$unit.d/test-watchdog.conf
systemctl daemon-reload
mkdir -p /run/flannel /etc/kube-flannel
echo '{"Network": "10.244.0.0/16", "EnableNFTables": true, "Backend": {"Type": "vxlan"}}' \
  >/etc/kube-flannel/net-conf.json

# --- READY=1 only once the rules are in place: without subnet.env the daemon waits
systemctl start --no-block $unit
check "the unit is activating while flanneld has not written subnet.env" \
  wait_for 10 bash -c "[[ \$(systemctl show -p StatusText --value $unit) == waiting:* ]]"
check "... and not active" test "$(prop ActiveState)" = activating
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n' \
  >/run/flannel/subnet.env
check "the unit becomes active once the daemon sent READY=1" wait_for 20 is_active
check "... and the rules were in place by then" rules_in_place
check "STATUS= says what the daemon holds" \
  bash -c "systemctl show -p StatusText --value $unit | grep -q '^flannel rules in place'"
echo "# StatusText: $(prop StatusText)"

# --- a dynamic user with CAP_NET_ADMIN alone
pid=$(prop MainPID)
uid=$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status)
check "the daemon runs as a dynamic user (uid $uid)" test "$uid" -ge 61184 -a "$uid" -le 65519
for set in CapEff CapPrm CapBnd CapAmb; do
  value=$(awk -v s="$set:" '$1 == s { print $2 }' /proc/"$pid"/status)
  check "$set is CAP_NET_ADMIN only ($value)" test "$value" = 0000000000001000
done
check "NoNewPrivileges is set" grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$pid"/status
check "the metrics socket systemd passed in answers /healthz" \
  bash -c 'curl -sf http://127.0.0.1:9478/healthz >/dev/null'

# --- another process deletes our table: refused (held) or repaired
if nft delete table ip flannel-nftd-ipv4 2>/dev/null; then
  check "a deleted table is repaired" wait_for 5 rules_in_place
else
  pass "nft delete table is refused: the daemon holds its tables"
fi
check "the rules are in place after the delete" wait_for 5 rules_in_place

# --- journal priorities: info lines at 6, a configuration error at 3
echo '{"Network": 5}' >/etc/kube-flannel/net-conf.json.new
mv /etc/kube-flannel/net-conf.json.new /etc/kube-flannel/net-conf.json
check "a bad net-conf.json is logged at priority err" wait_for 10 bash -c \
  "journalctl -q -u $unit -p err..err -o cat | grep -q 'net-conf.json'"
check "... and the rules stay in place" rules_in_place
check "lines of progress are logged at priority info" bash -c \
  "journalctl -q -u $unit -p info..info -o cat | grep -q 'flannel'"
check "nothing is logged at crit or worse" bash -c "! journalctl -q -u $unit -p 0..2 -o cat | grep -q ."
echo '{"Network": "10.244.0.0/16", "EnableNFTables": true, "Backend": {"Type": "vxlan"}}' \
  >/etc/kube-flannel/net-conf.json

# --- the watchdog restarts a daemon that stopped answering
restarts=$(prop NRestarts)
pid=$(prop MainPID)
kill -STOP "$pid"
check "the watchdog restarts a daemon stopped with SIGSTOP" wait_for 20 main_pid_changed_from "$pid"
check "... systemd says why" bash -c "journalctl -q -u $unit -o cat | grep -qi 'watchdog timeout'"
check "... counted as a restart" test "$(prop NRestarts)" -gt "$restarts"
check "... the rules are in place" wait_for 5 rules_in_place

# --- Restart=always after SIGKILL, the rules kept meanwhile
restarts=$(prop NRestarts)
pid=$(prop MainPID)
kill -KILL "$pid"
check "the rules stay in place while the daemon is dead" rules_in_place
check "Restart=always brings it back after SIGKILL" wait_for 20 main_pid_changed_from "$pid"
check "... counted as a restart" test "$(prop NRestarts)" -gt "$restarts"
check "... the rules are in place" rules_in_place

# --- systemctl stop leaves the rules
systemctl stop $unit flannel-nftd.socket
check "systemctl stop stops it" test "$(prop ActiveState)" = inactive
check "... and leaves the rules in place" rules_in_place
check "... and its runtime directory goes" test ! -e /run/flannel-nftd

# --- remove, then purge
rm -rf /etc/systemd/system/$unit.d
check "dpkg -r removes the package" dpkg -r flannel-nftd
left=()
while IFS= read -r path; do
  [[ -e $path && ! -d $path ]] && left+=("$path")
done <<<"$paths"
check "dpkg -r leaves only the conffile (left: ${left[*]:-none})" \
  test "${left[*]:-}" = /etc/default/flannel-nftd
check "dpkg --purge removes it" dpkg --purge flannel-nftd
check "... and the conffile with it" test ! -e /etc/default/flannel-nftd
check "... and dpkg knows nothing of the package" bash -c '! dpkg -s flannel-nftd >/dev/null 2>&1'

if [[ $failures -gt 0 ]]; then
  echo "# the daemon's journal, with priorities:"
  journalctl -q -u $unit -o short-monotonic --output-fields=PRIORITY,MESSAGE | tail -60
fi
echo "# $failures check(s) failed"
[[ $failures -eq 0 ]]
