#!/usr/bin/env python3
"""A real SMTP server for Parley's tests (aiosmtpd), storing each message it accepts as JSON.

    smtp_sink.py --dir DIR [--auth USER:PASSWORD [--mechanisms PLAIN,LOGIN]] [--tls CERT KEY] [--require-tls]

Listens on 127.0.0.1 on a free port and writes that port to DIR/port once it accepts connections.
Each message becomes DIR/message-N.json: {"from", "to", "subject", "text", "raw", "tls", "auth"}.
--tls offers STARTTLS with the given certificate; --auth requires AUTH (PLAIN or LOGIN) with
those credentials (offering only --mechanisms, if given); --require-tls refuses mail before STARTTLS. Stops on SIGTERM.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": message.get_content(),
            "raw": envelope.original_content.decode("utf-8", "replace"),
            "tls": session.ssl is not None,
            "auth": bool(session.authenticated),
        }
        with self.lock:
            self.count += 1
            path = os.path.join(self.directory, f"message-{self.count}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--require-tls", action="store_true")
    args = parser.parse_args()

    options = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.tls)
        options["tls_context"] = context
        options["require_starttls"] = args.require_tls
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        options["authenticator"] = authenticator
        options["auth_required"] = True
        options["auth_require_tls"] = bool(args.tls)
        offered = args.mechanisms.upper().split(",")
        options["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in offered]

    port = free_port()
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
    controller.start()
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))

    stop = threading.Event()
    # A parent may pass these signals blocked (Swift test runners do); take them back.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.1):  # a bare wait() would not let the signal handler run
        pass
    controller.stop()


if __name__ == "__main__":
    main()
