#!/usr/bin/env python3
"""Data export in bounded memory: the server's peak RSS while it builds and serves the archive of a
user with many messages, against one with few.

    Benchmarks/export-memory.py BINARY [--messages 100000] [--baseline 1000]

For each count: starts `BINARY serve` on a fresh SQLite data folder on loopback, registers a user
with one direct conversation, stops the server and writes COUNT messages of ~120 characters into the
database directly (sending them would take minutes), starts it again, asks for an export, waits
until it is built, downloads it, and reads the server's VmHWM (peak RSS) from /proc before the
export and after the download. Prints one JSON line per count. Loopback only; bounded loops.
"""
import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
        return json.loads(text) if text else None


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def start(binary, data, port):
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data, "--password-cost", "4"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("the server did not start")


def run(binary, count):
    data = tempfile.mkdtemp(prefix="parley-export-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    server = start(binary, data, port)
    alice = call(base, "POST", "/auth/register", {"username": "alice", "email": "alice@example.com", "password": PASSWORD})
    bob = call(base, "POST", "/auth/register", {"username": "bob", "email": "bob@example.com", "password": PASSWORD})
    conversation = call(base, "POST", "/conversations/direct", {"userId": bob["user"]["id"]}, alice["accessToken"])["id"]
    server.terminate()
    server.wait(timeout=30)

    # The ids as the server stores them: copied from its own rows.
    db = sqlite3.connect(os.path.join(data, "parley.sqlite"))
    conversation_key, = db.execute("SELECT id FROM conversations").fetchone()
    sender_key, = db.execute("SELECT id FROM users WHERE username = 'alice'").fetchone()
    uppercase = sender_key == sender_key.upper()
    now = time.time()
    body = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. " * 1
    rows = ((str(uuid.uuid4()).upper() if uppercase else str(uuid.uuid4()), conversation_key, seq, sender_key, f"bench-{seq}",
             f"{seq:06d} {body}{'x' * 30}", now - count + seq) for seq in range(1, count + 1))
    db.executemany("INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()

    server = start(binary, data, port)
    try:
        token = call(base, "POST", "/auth/login", {"login": "alice", "password": PASSWORD})["accessToken"]
        before = peak_kib(server.pid)
        started = time.time()
        call(base, "POST", "/me/export", token=token)
        for _ in range(1200):
            export = call(base, "GET", "/me/export", token=token)
            if export["status"] == "ready":
                break
            time.sleep(0.1)
        built = time.time() - started
        size = 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{export['url']}", timeout=120) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
        lines = count + 4  # profile, session, membership, messages (no contacts, blocks, uploads)
        after = peak_kib(server.pid)
        print(json.dumps({"messages": count, "archive bytes": size, "archive lines (expected)": lines,
                          "build s": round(built, 2), "peak RSS before KiB": before, "peak RSS after KiB": after,
                          "peak RSS growth KiB": after - before, "conversation": conversation}))
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", data], check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    args = parser.parse_args()
    for count in (args.baseline, args.messages):
        run(args.binary, count)


if __name__ == "__main__":
    main()
