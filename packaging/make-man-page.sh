#!/usr/bin/env bash
# Writes flannel-nftd(8), gzipped, from the built binary's own --help and every verb's
# --help (help2man), so the page says exactly what the binary does.
#   make-man-page.sh BINARY OUTPUT.8.gz
set -euo pipefail
binary=$1
output=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
  echo "[DESCRIPTION]"
  echo "flannel-nftd owns flannel's packet-filter rules on a Kubernetes node: pod masquerade"
  echo "and forward accept, in nftables or iptables, repaired the moment anything else changes"
  echo "them. It reads flanneld's /run/flannel/subnet.env and net-conf.json, and runs as the"
  echo "systemd unit flannel-nftd.service (options in /etc/default/flannel-nftd)."
  for verb in run apply cleanup dump status doctor; do
    echo "[VERB ${verb^^}]"
    echo ".nf"
    # roff: a backslash is an escape, and a line may not start with a dot or a quote.
    "$binary" "$verb" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    echo ".fi"
  done
  echo "[FILES]"
  echo ".TP"
  echo "/etc/default/flannel-nftd"
  echo "the unit's options (FLANNEL_NFTD_OPTS)"
  echo ".TP"
  echo "/run/flannel/subnet.env, /etc/kube-flannel/net-conf.json"
  echo "flanneld's lease and network configuration, read and followed live"
  echo ".TP"
  echo "/run/flannel-nftd/control.sock"
  echo "what \\fBflannel-nftd status\\fR asks"
  echo "[SEE ALSO]"
  echo "\\fBnft\\fR(8), \\fBiptables\\fR(8), \\fBsystemd.service\\fR(5),"
  echo "/usr/share/doc/flannel-nftd/README.md"
} >"$include"
help2man --no-info --section=8 --no-discard-stderr \
  --name="keeps flannel's masquerade and forward rules in nftables or iptables" \
  --include="$include" "$binary" | gzip -9n >"$output"
