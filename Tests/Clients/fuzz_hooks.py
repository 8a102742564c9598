"""Schemathesis hooks of test_fuzz.py: every request carries the access token of a user registered
for the run (PARLEY_FUZZ_URL names the server). With PARLEY_FUZZ_FRESH=1 each request gets a user
of its own, for the operations that end a session or an account."""

import json
import os
import urllib.request
import uuid

import schemathesis

BASE = os.environ["PARLEY_FUZZ_URL"]
FRESH = os.environ.get("PARLEY_FUZZ_FRESH") == "1"


def register():
    name = "fz" + uuid.uuid4().hex[:12]
    body = json.dumps({"username": name, "email": f"{name}@example.com", "password": "correct horse battery staple"}).encode()
    request = urllib.request.Request(f"{BASE}/api/v1/auth/register", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["accessToken"]


@schemathesis.auth(refresh_interval=0.001 if FRESH else 600)
class ParleyAuth:
    def get(self, case, ctx):
        return register()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
