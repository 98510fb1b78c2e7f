#!/usr/bin/env python3
"""Measures a running sluice-worker's delivery rate from its /metrics endpoint.

    delivery_rate.py <metrics-url> <count> <pid>

Scrapes sluice_worker_delivered_total every 5 ms (a connection each: the exposer closes them) until it reaches
<count> (or process <pid> exits: exit status 1). Prints one line:

    first=<delivered at the first scrape that saw deliveries> span=<seconds> rate=<msg/s>

The rate counts what was delivered between the first scrape that saw deliveries and the first that
saw all of them, each timed at the middle of its request (from the last scrape that saw none when
one scrape saw them all). At ~2M msg/s a run lasts about a second,
so the end must be seen within a few milliseconds: a scrape every 50 ms with a new curl process
each time (what bench/run-kafka.sh did before) saw it up to ~70 ms late (~5 % of the rate) and spent
a few percent of a core on fork/exec while the worker ran.
"""
import http.client
import os
import sys
import time
import urllib.parse

METRIC = b"sluice_worker_delivered_total "


def delivered(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path)
        body = conn.getresponse().read()
    finally:
        conn.close()
    for line in body.splitlines():
        if line.startswith(METRIC):
            return int(float(line[len(METRIC):]))
    return 0


def main():
    url, count, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    parts = urllib.parse.urlsplit(url)
    first = None
    before_first = None  # the last scrape that saw none delivered
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("worker exited before delivering %d messages" % count, file=sys.stderr)
            return 1
        try:
            before = time.monotonic()
            n = delivered(parts.hostname, parts.port, parts.path or "/metrics")
            at = (before + time.monotonic()) / 2
        except (OSError, http.client.HTTPException):
            time.sleep(0.005)  # not listening yet
            continue
        if first is None and n > 0:
            # All of them between two scrapes (a short run): count from the scrape that saw none.
            first = (n, at) if n < count or before_first is None else before_first
        elif first is None:
            before_first = (n, at)
        if n >= count:
            span = at - first[1]
            rate = (n - first[0]) / span if span > 0 else float("nan")
            print("first=%d span=%.4f rate=%.0f" % (first[0], span, rate))
            return 0
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(main())
