#!/usr/bin/env python3
"""dnsq.py SERVER NAME: one DNS A query over UDP (no resolver library involved); prints each
address of the answer, exits 1 when there is none. scripts/lib/node.sh runs it inside the node's
network namespace to check the cluster DNS."""
import random
import socket
import struct
import sys


def query(server, name, timeout=2.0):
    qid = random.randrange(1 << 16)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(q, (server, 53))
    data, _ = s.recvfrom(4096)
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    if rid != qid:
        raise RuntimeError("answer id does not match the query")
    if flags & 0xF:
        raise RuntimeError(f"rcode {flags & 0xF}")
    off = 12
    for _ in range(qd):
        off = skip_name(data, off) + 4
    out = []
    for _ in range(an):
        off = skip_name(data, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[off:off + 4]))
        off += rdlen
    return out


def skip_name(data, off):
    while True:
        n = data[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += n + 1


if __name__ == "__main__":
    try:
        addrs = query(sys.argv[1], sys.argv[2])
    except Exception as e:  # noqa: BLE001 - report any failure as "no answer"
        print(f"dnsq: {sys.argv[2]} @{sys.argv[1]}: {e}", file=sys.stderr)
        sys.exit(1)
    for a in addrs:
        print(a)
    sys.exit(0 if addrs else 1)
