#!/usr/bin/env python3
"""Reads a `wrk --latency` report on stdin and prints its figures as one JSON line labelled argv[1]."""
import json
import re
import sys


def milliseconds(value):
    number = float(re.match(r"([\d.]+)", value).group(1))
    unit = re.search(r"(us|ms|s)$", value).group(1)
    return round(number * {"us": 0.001, "ms": 1, "s": 1000}[unit], 3)


text = sys.stdin.read()
latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sockets = re.search(r"Socket errors: (.*)", text)
print(json.dumps({
    "scenario": sys.argv[1],
    "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
    "p50_ms": milliseconds(latency["50"]),
    "p90_ms": milliseconds(latency["90"]),
    "p99_ms": milliseconds(latency["99"]),
    "non_2xx": int(errors.group(1)) if errors else 0,
    "socket_errors": sockets.group(1) if sockets else "",
}))
