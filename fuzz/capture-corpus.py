#!/usr/bin/env python3
"""Captures the fuzzers' netlink seed corpus from a real kernel.

Run as root in a fresh network namespace (it changes that namespace's ruleset):
    unshare -n python3 fuzz/capture-corpus.py fuzz/corpus
and, for flowtable messages, under the project's 6.1 kernel:
    netns-tests/kernel/uml.sh run python3 fuzz/capture-corpus.py fuzz/corpus
Writes what the kernel sends, byte for byte: nf_tables event datagrams while the real `nft`
loads rulesets (nft_event/), dump answers for tables, chains, rules and flowtables
(nft_dump/), and the error and done messages with extended acks answering bad batches and
dumps (extack/). Files are named by content hash, so running it again adds only new ones.
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_EXT_ACK = 11
NFNLGRP_NFTABLES = 7
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_CREATE = 0x400
NFT_MSG = {"NEWTABLE": 0, "GETTABLE": 1, "NEWCHAIN": 3, "GETCHAIN": 4, "NEWRULE": 6,
           "GETRULE": 7, "GETSET": 10, "GETSETELEM": 13, "GETOBJ": 19, "GETFLOWTABLE": 23}
NFTA_TABLE_NAME, NFTA_TABLE_FLAGS = 1, 2
NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS = 1, 2, 4
NFTA_LIST_ELEM, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 1, 1, 2
NLA_F_NESTED = 0x8000

# Rulesets the way nodes have them: ours (`flannel-nftd dump` output), kube-proxy's nftables
# mode, firewalld-like tables, and hostile objects in our own tables.
RULESETS = [
    """table ip flannel-nftd-ipv4 {
  chain postrtg { type nat hook postrouting priority srcnat; policy accept;
    meta mark & 0x4000 == 0x4000 counter return comment "kube-proxy masqueraded"
    ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 counter return comment "pod to pod"
    ip saddr 10.244.1.0/24 ip daddr != 224.0.0.0/4 counter masquerade fully-random comment "pod out"
    ip saddr != 10.244.0.0/16 ip daddr 10.244.1.0/24 counter return comment "in to pods"
    ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 counter masquerade fully-random comment "x"
  }
  chain forward { type filter hook forward priority filter; policy accept;
    ip saddr 10.244.0.0/16 counter accept comment "from pods"
    ip daddr 10.244.0.0/16 counter accept comment "to pods"
  }
}""",
    """table ip6 flannel-nftd-ipv6 {
  chain postrtg { type nat hook postrouting priority srcnat; policy accept;
    ip6 saddr fd00:10:244:1::/64 ip6 daddr fd00:10:244::/56 counter return
    ip6 saddr fd00:10:244:1::/64 ip6 daddr != ff00::/8 counter masquerade fully-random
  }
  chain forward { type filter hook forward priority filter; policy accept;
    ip6 saddr fd00:10:244::/56 counter accept
  }
}""",
    """table ip flannel-nftd-ipv4 {
  set hostile { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 } }
  map verdicts { type ipv4_addr : verdict; elements = { 10.1.1.1 : drop } }
  counter named { packets 5 bytes 6 }
  chain forward { ip saddr @hostile counter drop
    ip daddr vmap @verdicts
    counter name "named"
    tcp dport { 22, 80-90 } ct state new,established limit rate 10/second log prefix "x" accept
    meta l4proto udp udp sport 53 reject
    iifname "cni0" oifname != "eth0" ip ttl 1 drop
    ct mark 0x1 meta mark set 0x2 notrack
    ip protocol icmp icmp type echo-request queue num 3 bypass
    ip dscp cs1 ip length 100-200 counter jump postrtg
  }
}""",
    """table inet kube-proxy {
  chain nat-postrouting { type nat hook postrouting priority srcnat; policy accept;
    meta mark & 0x4000 == 0 return
    meta mark set meta mark ^ 0x4000 masquerade fully-random
  }
  chain filter-forward { type filter hook forward priority -110; policy accept;
    ct state invalid drop
    ct status dnat ip daddr 10.96.0.10 tcp dport 53 accept
  }
}""",
    """table ip nat {
  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept;
    counter jump FLANNEL-POSTRTG comment "flanneld masq"
  }
  chain FLANNEL-POSTRTG {
    meta mark & 0x4000 == 0x4000 counter return
    ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 counter return
    ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 counter snat to 192.0.2.1
  }
}""",
]
FLOWTABLE = """table ip flannel-nftd-ipv4 {
  flowtable fastpath { hook ingress priority filter; devices = { lo }; counter }
  chain forward { type filter hook forward priority filter; policy accept;
    ip saddr 10.244.0.0/16 ct state established counter flow add @fastpath
  }
}"""
MUTATIONS = ["delete table ip flannel-nftd-ipv4", "flush ruleset", "flush chain ip flannel-nftd-ipv4 forward",
             "add rule ip flannel-nftd-ipv4 forward drop", "insert rule ip flannel-nftd-ipv4 forward accept"]


def save(corpus, target, data):
    directory = os.path.join(corpus, target)
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def nlmsg(msg_type, flags, seq, payload):
    return struct.pack("=IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload


def nfgen(family, res_id=0):
    return struct.pack("=BBH", family, 0, socket.htons(res_id))


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def messages(datagram):
    offset = 0
    while offset + 16 <= len(datagram):
        length = struct.unpack_from("=I", datagram, offset)[0]
        if length < 16 or offset + length > len(datagram):
            return
        yield datagram[offset:offset + length]
        offset += (length + 3) & ~3


def open_socket(groups=()):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    for group in groups:
        sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    sock.settimeout(0.5)
    return sock


def drain(sock):
    datagrams = []
    try:
        while True:
            datagrams.append(sock.recv(1 << 20))
    except socket.timeout:
        return datagrams


def nft(text):
    return subprocess.run(["nft", "-f", "-"], input=text.encode(), capture_output=True).returncode


def dump(sock, corpus, msg_type, family):
    sock.send(nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG[msg_type],
                    NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 1, nfgen(family)))
    for datagram in drain(sock):
        for message in messages(datagram):
            msg_type_seen = struct.unpack_from("=H", message, 4)[0]
            save(corpus, "extack" if msg_type_seen in (2, 3) else "nft_dump", message)


def bad_batch(sock, corpus, family, body):
    batch = (nlmsg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 10, nfgen(0, NFNL_SUBSYS_NFTABLES)) +
             body + nlmsg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 12, nfgen(0, NFNL_SUBSYS_NFTABLES)))
    sock.send(batch)
    for datagram in drain(sock):
        for message in messages(datagram):
            save(corpus, "extack", message)


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus"
    events = open_socket([NFNLGRP_NFTABLES])
    for ruleset in RULESETS + [FLOWTABLE] + MUTATIONS:
        text = ruleset if ruleset.startswith("table") else ruleset + "\n"
        if nft(text) != 0 and ruleset is FLOWTABLE:
            print("capture-corpus: this kernel has no flowtables; none captured", file=sys.stderr)
        if ruleset.startswith("table"):
            requests = open_socket()
            for kind in ("GETTABLE", "GETCHAIN", "GETRULE", "GETFLOWTABLE", "GETSET", "GETOBJ"):
                dump(requests, corpus, kind, 0)
            requests.close()
    for datagram in drain(events):
        save(corpus, "nft_event", datagram)
    requests = open_socket()
    table = attr(NFTA_TABLE_NAME, b"flannel-nftd-ipv4\0")
    bad_batch(requests, corpus, 2, nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG["NEWTABLE"],
                                         NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, 11,
                                         nfgen(2) + table + attr(NFTA_TABLE_FLAGS,
                                                                 struct.pack("!I", 0xff))))
    expression = attr(NFTA_LIST_ELEM | NLA_F_NESTED, attr(NFTA_EXPR_NAME, b"nosuchexpr\0") +
                      attr(NFTA_EXPR_DATA | NLA_F_NESTED, b""))
    bad_batch(requests, corpus, 2, nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG["NEWRULE"],
                                         NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, 11,
                                         nfgen(2) + attr(NFTA_RULE_TABLE, b"missing\0") +
                                         attr(NFTA_RULE_CHAIN, b"forward\0") +
                                         attr(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, expression)))
    nft("flush ruleset\n")


if __name__ == "__main__":
    main()
