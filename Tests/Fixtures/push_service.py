#!/usr/bin/env python3
"""A Web Push service for Parley's tests: it plays the browser's push service and the browser.

    push_service.py --dir DIR [--port PORT]

Keeps a browser's P-256 key pair and auth secret in DIR/keys.json (made on first start, reused
after), listens on 127.0.0.1 (PORT, or a free one) and writes DIR/service.json:
{"port", "p256dh", "auth"} (base64url) once it accepts connections.

Every POST is checked independently of Parley's code: the VAPID token (RFC 8292) is verified
against the key in the `Authorization: vapid t=…, k=…` header with `cryptography`, its `aud`,
`exp` and `sub` are checked, and the body is decrypted (RFC 8291, aes128gcm) with `http_ece`.
Each push becomes DIR/push-N.json: {"path", "payload", "headers"}; a push that fails a check
becomes DIR/bad-N.json: {"path", "error"} and is answered 400; so does a body over 4,096 bytes,
which real push services refuse. After the checks, paths under /gone/ answer 410 and paths under
/fail/ answer 500 with `Retry-After: 0` (so that retries come at once). Stops on SIGTERM.
"""
import argparse
import base64
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_keys(directory):
    path = os.path.join(directory, "keys.json")
    if os.path.exists(path):
        saved = json.load(open(path))
        private = serialization.load_pem_private_key(saved["pem"].encode(), password=None)
        return private, b64url_decode(saved["auth"])
    private = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    json.dump({"pem": pem.decode(), "auth": b64url(auth)}, open(path, "w"))
    return private, auth


def verify_vapid(header, origin):
    """The claims of a valid VAPID `Authorization` header; raises ValueError otherwise."""
    if not header or not header.startswith("vapid "):
        raise ValueError("no vapid authorization")
    fields = dict(part.strip().split("=", 1) for part in header[len("vapid "):].split(","))
    token, key = fields["t"], fields["k"]
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    head, claims, signature = token.split(".")
    raw = b64url_decode(signature)
    if len(raw) != 64:
        raise ValueError("signature is not 64 bytes")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad vapid signature")
    if json.loads(b64url_decode(head)) != {"typ": "JWT", "alg": "ES256"}:
        raise ValueError("bad jwt header")
    claims = json.loads(b64url_decode(claims))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')} is not {origin}")
    if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
        raise ValueError("exp out of range")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("no sub")
    return claims


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    private, auth = load_keys(args.dir)
    public = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    counter = {"n": 0}
    lock = threading.Lock()

    def record(kind, content):
        with lock:
            counter["n"] += 1
            n = counter["n"]
        path = os.path.join(args.dir, f"{kind}-{n}.json")
        json.dump(content, open(path + ".tmp", "w"))
        os.rename(path + ".tmp", path)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            origin = f"http://127.0.0.1:{self.server.server_address[1]}"
            try:
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError("Content-Encoding is not aes128gcm")
                if not self.headers.get("TTL"):
                    raise ValueError("no TTL")
                if len(body) > 4096:
                    raise ValueError(f"a body of {len(body)} bytes, over the 4,096 push services accept")
                verify_vapid(self.headers.get("Authorization"), origin)
                plain = http_ece.decrypt(body, private_key=private, auth_secret=auth, version="aes128gcm")
                payload = json.loads(plain)
            except Exception as error:  # every failure is the test's finding
                record("bad", {"path": self.path, "error": f"{type(error).__name__}: {error}"})
                self.send_response(400)
                self.end_headers()
                return
            record("push", {"path": self.path, "payload": payload, "headers": dict(self.headers), "size": len(body)})
            if self.path.startswith("/fail/"):
                self.send_response(500)
                self.send_header("Retry-After", "0")
            else:
                self.send_response(410 if self.path.startswith("/gone/") else 201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    info = {"port": server.server_address[1], "p256dh": b64url(public), "auth": b64url(auth)}
    json.dump(info, open(os.path.join(args.dir, "service.json.tmp"), "w"))
    os.rename(os.path.join(args.dir, "service.json.tmp"), os.path.join(args.dir, "service.json"))
    server.serve_forever()


if __name__ == "__main__":
    main()
