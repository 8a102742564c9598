#!/usr/bin/env python3
"""Notification fan-out: one message that notifies every member of a large group.

    Benchmarks/notification-fanout.py --server http://127.0.0.1:8080 [--members 1000] [--samples 5]

Against a running server started with --allow-loopback-push (and room for MEMBERS in a group):
registers MEMBERS users, puts them in one group, subscribes each to Web Push at a push sink this
script runs on loopback (it counts what arrives; the server still encrypts and signs every push),
then measures, one send at a time:
  - a plain message (nobody notified): the send's latency;
  - an `@all` message from the owner: the send's latency (every notification row and
    notification.created event is written in the send's transaction), and the time from the
    send to the last of its MEMBERS-1 pushes arriving.
Prints one JSON line. Load goes to loopback only; every loop is bounded.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A valid browser key and auth secret: the sink does not decrypt, Parley encrypts all the same.
P256DH = "BJztGaM4oFeujwht9z29TlzCT_4edK4kouNfrBMwU332RfibmGzj4f09s6eJqKjEgu2dpoHmlERtWGA4VD6hqRg"
AUTH = "TRRBNDyS663YXKhxQTNk-w"


def call(server, method, path, body=None, token=None):
    request = urllib.request.Request(server + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    sink.arrivals.append(time.monotonic())
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def wait_for(self, total, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.arrivals) >= total:
                    return self.arrivals[total - 1]
            time.sleep(0.005)
        raise TimeoutError(f"{self.count()} of {total} pushes arrived")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://127.0.0.1:8080")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    assert args.server.startswith(("http://127.", "http://localhost")), "loopback only"
    assert 2 <= args.members <= 1000 and 1 <= args.samples <= 20
    tag = str(int(time.time() * 1000) % 10**8)

    def register(i):
        return call(args.server, "POST", "/api/v1/auth/register",
                    {"username": f"f{tag}_{i}", "email": f"f{tag}_{i}@example.com", "password": "correct horse battery"})

    with ThreadPoolExecutor(16) as pool:
        users = list(pool.map(register, range(args.members)))
    owner, members = users[0], users[1:]
    group = call(args.server, "POST", "/api/v1/groups", {"title": "Fan-out", "memberIds": [u["user"]["id"] for u in members]},
                 token=owner["accessToken"])["id"]
    sink = Sink()

    def subscribe(pair):
        i, user = pair
        call(args.server, "POST", "/api/v1/push/subscriptions",
             {"endpoint": f"http://127.0.0.1:{sink.port}/push/{i}", "keys": {"p256dh": P256DH, "auth": AUTH}}, token=user["accessToken"])

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(subscribe, enumerate(members)))

    def send(body, n):
        started = time.monotonic()
        call(args.server, "POST", f"/api/v1/conversations/{group}/messages", {"clientMessageId": f"{tag}-{n}", "body": body},
             token=owner["accessToken"])
        return started, time.monotonic() - started

    plain = [send("plain message", f"p{n}")[1] for n in range(20)]
    fanout, last_push = [], []
    expected = sink.count()
    for n in range(args.samples):
        started, latency = send("@all tea is ready", f"a{n}")
        expected += len(members)
        last = sink.wait_for(expected)
        fanout.append(latency)
        last_push.append(last - started)
        time.sleep(0.5)
    ms = lambda values: round(statistics.median(values) * 1000, 1)
    print(json.dumps({
        "scenario": "notification-fanout", "members": args.members, "samples": args.samples,
        "plainSendMsP50": ms(plain), "allSendMsP50": ms(fanout), "allSendMsMax": round(max(fanout) * 1000, 1),
        "lastPushMsP50": ms(last_push), "lastPushMsMax": round(max(last_push) * 1000, 1),
        "pushesPerSecond": round(len(members) / statistics.median(last_push), 1),
    }))


if __name__ == "__main__":
    main()
