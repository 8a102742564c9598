#!/usr/bin/env python3
"""An independent send→receive latency client for Parley's group fan-out.

    Benchmarks/latency.py --server http://127.0.0.1:8080 [--members 20] [--senders 20]
        [--rates 20,50,100,200,300,400] [--seconds 10] [--runs 3] [--send-path rest|ws]
        [--pause 2] [--drain 10] [--json [FILE]]

Written apart from the server and from its own load tool (parley-bench, Swift): asyncio,
`websockets` and `aiohttp` (`scripts/pip-install websockets aiohttp`). The server must allow the
registrations and should not spend the run hashing passwords:

    parley serve --port 8080 --registrations-per-hour 100000 --password-cost 4 [--log-level warning]

It registers MEMBERS new users, puts them in one new group, connects every member to the realtime
endpoint (resume with no cursors, then live), and for each rate, RUNS times: SENDERS of the members
send RATE messages/s in all, taking turns, for SECONDS. Sending is open-loop: message n is due at
start + n/RATE on the monotonic clock whether or not earlier sends have been answered, and its body
is "bench RUN N DUE_NS". Each member's copy is timed from that due time to the moment this client's
event loop read the last bytes of its `message.created` frame from the socket (before parsing), so a
send that waited (for the server, a connection, or this client's event loop) carries its wait (no
coordinated omission). Every member, the sender included, must receive every accepted message
exactly once: copies missing after the drain are lost, extra ones duplicated; either marks the run
and makes the exit status 1.

Report: per run p50 / p99 / p99.9 / max (exact, from every sample), lost and duplicated copies,
how late this client started its sends (p99 of start − due) and its own CPU use (a Python client
near 100% of one core is measuring itself); per rate the worst run (highest p99) and the max of
the runs' maxima. Loopback servers only; every loop is bounded; total time is about
rates × runs × (seconds + pause + at most drain) plus set-up.
"""
import argparse
import array
import asyncio
import collections
import gc
import inspect
import ipaddress
import json
import math
import secrets
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

try:
    import aiohttp
    import websockets
    from websockets.asyncio.client import connect as ws_connect
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.exit(
        f"latency.py needs the PyPI packages websockets (13 or later) and aiohttp "
        f"({error.name} is missing). Install them with:\n    scripts/pip-install websockets aiohttp"
    )

try:  # arrival stamps: websockets' asyncio connection, subclassed (create_connection=, websockets 13+)
    from websockets.asyncio.client import ClientConnection
    from websockets.frames import DATA_OPCODES, Frame

    class StampedConnection(ClientConnection):
        """A client connection that notes when the event loop read each message's last bytes from the
        socket, before it is parsed, queued and handed to recv(): work this client does after that is
        not the server's latency. One stamp per data message, in order (see recv_stamped)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stamps = collections.deque()
            self.chunk_stamp = 0

        def data_received(self, data):
            self.chunk_stamp = time.monotonic_ns()
            super().data_received(data)

        def process_event(self, event):
            if isinstance(event, Frame) and event.fin and event.opcode in DATA_OPCODES:
                self.stamps.append(self.chunk_stamp)
            super().process_event(event)

    STAMPING = "create_connection" in inspect.signature(ws_connect.__init__).parameters
except ImportError:  # pragma: no cover - an older websockets: stamp when recv() returns
    STAMPING = False


async def recv_stamped(ws):
    """The next message and when it arrived: the loop's read of its bytes, or (without stamping) now."""
    raw = await ws.recv()
    stamps = getattr(ws, "stamps", None)
    return raw, (stamps.popleft() if stamps else time.monotonic_ns())


PASSWORD = "correct horse battery"
TOKEN_LIFETIME = 900.0  # access tokens live 15 minutes
CREATED = '"message.created"'
MAX_SAMPLES_PER_RUN = 20_000_000
SETUP_CONCURRENCY = 16
monotonic_ns = time.monotonic_ns
loads = json.loads


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Options


def loopback_url(text):
    parts = urlsplit(text.rstrip("/"))
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"{text!r}: give http://HOST:PORT")
    host = parts.hostname
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: only loopback servers (127.0.0.0/8, ::1, localhost)")
    return f"http://{parts.netloc}"


def rate_list(text):
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give messages/s as a comma list, e.g. 20,50,100")
    if not rates or len(rates) > 50 or any(not 0.1 <= rate <= 5000 for rate in rates):
        raise argparse.ArgumentTypeError("1 to 50 rates, each 0.1…5000 messages/s")
    return [int(rate) if rate == int(rate) else rate for rate in rates]


def parse_options(argv):
    parser = argparse.ArgumentParser(
        prog="latency.py",
        description="Send→receive latency of messages fanned out to every member of one Parley group, "
        "measured by a client independent of the server's own tool. Start the server with "
        "--registrations-per-hour 100000 --password-cost 4 (the client registers MEMBERS users), and "
        "--log-level warning to compare with parley-bench.",
        epilog="Needs websockets and aiohttp: scripts/pip-install websockets aiohttp. Exit status 1 when a "
        "copy was lost or duplicated or a send failed, 2 when setting up failed.",
    )
    parser.add_argument("--server", action="append", type=loopback_url, metavar="URL",
                        help="a node, http://127.0.0.1:PORT (repeat for several nodes: members and senders alternate "
                        "between them; default http://127.0.0.1:8080)")
    parser.add_argument("--members", type=int, default=20, help="members of the group, all connected (2…1000; default 20)")
    parser.add_argument("--senders", type=int, help="members that send, taking turns (1…members; default 20 or members)")
    parser.add_argument("--rates", type=rate_list, default=rate_list("20,50,100,200,300,400"),
                        help="messages/s offered over all senders, a comma list (default 20,50,100,200,300,400)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of sending per run (1…300; default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs per rate (1…20; default 3)")
    parser.add_argument("--send-path", choices=("rest", "ws"), default="rest",
                        help="rest: POST /conversations/{id}/messages (default); ws: message.send frames on the "
                        "sender's own socket, limited by the server to 20 frames/s per connection")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of quiet before each run (0…60; default 2)")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait after the last send for every copy (1…60; default 10)")
    parser.add_argument("--max-in-flight", type=int, default=256,
                        help="sends pending at most; a send due while this many are pending waits, and the wait "
                        "counts in its latency (1…1024; default 256)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="one JSON line per rate (every run and the worst): to standard output (the table then "
                        "goes to standard error), or appended to FILE")
    options = parser.parse_args(argv)

    options.server = options.server or ["http://127.0.0.1:8080"]
    if options.senders is None:
        options.senders = min(20, options.members)

    def require(ok, message):
        if not ok:
            parser.error(message)

    require(2 <= options.members <= 1000, "--members: 2…1000 (a group holds at most 1,000)")
    require(1 <= options.senders <= options.members, "--senders: 1…members")
    require(1 <= options.seconds <= 300, "--seconds: 1…300")
    require(1 <= options.runs <= 20, "--runs: 1…20")
    require(0 <= options.pause <= 60, "--pause: 0…60")
    require(1 <= options.drain <= 60, "--drain: 1…60")
    require(1 <= options.max_in_flight <= 1024, "--max-in-flight: 1…1024")
    require(len(options.server) <= 16, "--server: at most 16 nodes")
    for rate in options.rates:
        require(math.ceil(rate * options.seconds) * options.members <= MAX_SAMPLES_PER_RUN,
                f"rate {rate} × {options.seconds:g} s × {options.members} members is over "
                f"{MAX_SAMPLES_PER_RUN:,} copies per run")
        if options.send_path == "ws":
            require(rate / options.senders <= 20,
                    f"--send-path ws: {rate} messages/s over {options.senders} senders is over the server's "
                    "20 frames/s per connection; use more senders, lower rates or --send-path rest")
    return options


# ---------------------------------------------------------------------------------------------
# State


class Member:
    """One user of the group and its realtime connection."""

    def __init__(self, index, server):
        self.index = index
        self.server = server
        self.ws_url = "ws://" + server[len("http://"):] + "/api/v1/realtime"
        self.user_id = None
        self.access = None
        self.refresh = None
        self.token_time = 0.0
        self.ws = None
        self.last_seq = 0
        self.pending = {}  # message.send id -> future of its answer
        self.ready = asyncio.Event()  # set on `resumed`, cleared when the socket closes
        self.frames_per_second = None
        self.closes = []  # close codes seen
        self.reconnects = 0
        self.task = None


class Run:
    """The bookkeeping of one run: one counter per member per message, and every latency sample."""

    def __init__(self, key, rate, seconds, members):
        self.key = key
        self.rate = rate
        self.total = math.ceil(rate * seconds)
        self.counts = [bytearray(self.total) for _ in range(members)]
        self.latencies = array.array("q")  # ns, first copy per member per message
        self.first_copies = 0
        self.target = math.inf  # first copies expected; set once every send is answered
        self.done = asyncio.Event()
        self.accepted = bytearray(self.total)
        self.issued = 0
        self.skipped = 0
        self.failed = Counter()  # reason -> sends given up
        self.retries = Counter()  # status or code -> retried answers
        self.start_lateness = array.array("q")  # ns, send started − due
        self.answer_times = array.array("q")  # ns, send started → answer read
        self.beyond = 0  # copies of a message index this run never scheduled
        self.stale = 0  # copies of earlier runs that arrived during this one
        self.first_due = 0
        self.reconnects = 0  # sockets that closed and resumed during the run
        self.other_frames = Counter()  # frames other than bench copies, by type (errors, resyncs, presence…)
        self.last_arrival = 0


def percentile(ordered, fraction):
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(ns):
    return None if ns is None else round(ns / 1e6, 3)


# ---------------------------------------------------------------------------------------------
# The client


class Bench:
    def __init__(self, options):
        self.options = options
        self.nonce = secrets.token_hex(3)
        self.members = [Member(index, options.server[index % len(options.server)]) for index in range(options.members)]
        self.sessions = {}
        self.conversation = None
        self.stream = None
        self.active = {}  # run key -> Run
        self.current = None  # the run being measured, for stale copies
        self.stopping = False
        self.other_frames = Counter()  # frames outside any run, by type
        self.ws_kwargs = dict(compression=None, ping_interval=None, max_size=16 * 1024 * 1024,
                              open_timeout=10, close_timeout=2)
        if "proxy" in inspect.signature(ws_connect.__init__).parameters:
            self.ws_kwargs["proxy"] = None  # loopback: never through an environment proxy
        if STAMPING:
            self.ws_kwargs["create_connection"] = StampedConnection

    # -- REST ------------------------------------------------------------------------------------

    async def call(self, server, method, path, body, token=None, expect=(200, 201)):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(5):
            async with self.sessions[server].request(method, server + path, data=json.dumps(body), headers=headers) as answer:
                text = await answer.text()
                if answer.status in expect:
                    return loads(text) if text else None
                if answer.status in (429, 503) and attempt < 4:
                    if answer.status == 429 and path == "/api/v1/auth/register":
                        raise SetupError(
                            "registration refused with 429: start the server with --registrations-per-hour 100000 "
                            "(and --password-cost 4)")
                    await asyncio.sleep(min(float(answer.headers.get("Retry-After", "1") or 1), 5.0))
                    continue
                raise SetupError(f"{method} {path} on {server}: {answer.status} {text[:300]}")
        raise SetupError(f"{method} {path} on {server}: still refused after 5 attempts")

    async def register(self, member, limit):
        async with limit:
            name = f"lat{self.nonce}_{member.index:04d}"
            answer = await self.call(member.server, "POST", "/api/v1/auth/register",
                                     {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
            member.user_id = answer["user"]["id"]
            member.access, member.refresh = answer["accessToken"], answer["refreshToken"]
            member.token_time = time.monotonic()

    async def refresh_tokens(self):
        """Trade every member's refresh token for a new pair and hand the new access token to its socket."""
        limit = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def one(member):
            async with limit:
                answer = await self.call(member.server, "POST", "/api/v1/auth/refresh", {"refreshToken": member.refresh})
                member.access, member.refresh = answer["accessToken"], answer["refreshToken"]
                member.token_time = time.monotonic()
                if member.ws is not None:
                    try:
                        await member.ws.send(json.dumps({"type": "auth", "token": member.access}))
                    except websockets.ConnectionClosed:
                        pass  # the receiver reconnects with the new token

        started = time.monotonic()
        await asyncio.gather(*(one(member) for member in self.members))
        log(f"  refreshed {len(self.members)} access tokens in {time.monotonic() - started:.1f} s")

    # -- realtime --------------------------------------------------------------------------------

    async def open_socket(self, member):
        """Connects, reads `hello`, sends `resume` (from the last seq seen, if any); `resumed` sets ready."""
        ws = await ws_connect(member.ws_url, additional_headers={"Authorization": f"Bearer {member.access}"},
                              **self.ws_kwargs)
        try:
            raw, _ = await asyncio.wait_for(recv_stamped(ws), 10)
            hello = loads(raw)
        except Exception:
            await ws.close()
            raise
        if hello.get("type") != "hello":
            await ws.close()
            raise SetupError(f"member {member.index}: first frame was {hello.get('type')!r}, not hello")
        if self.stream not in hello.get("streams", {}):
            await ws.close()
            raise SetupError(f"member {member.index}: hello does not list {self.stream}")
        member.frames_per_second = hello.get("limits", {}).get("framesPerSecond")
        cursors = {self.stream: member.last_seq} if member.last_seq else {}
        await ws.send(json.dumps({"type": "resume", "id": "r", "cursors": cursors}))
        member.ws = ws

    async def receive(self, member):
        """The receiver loop of one member: cheap for every frame that is not a bench message."""
        stream = self.stream
        record = self.record
        index = member.index
        while True:
            ws = member.ws
            recv = ws.recv
            stamps = getattr(ws, "stamps", None)
            try:
                while True:
                    raw = await recv()
                    if stamps:
                        now = stamps.popleft()
                    else:
                        now = monotonic_ns()
                        if stamps is not None:
                            self.other_frames["message without an arrival stamp"] += 1
                    if CREATED in raw:
                        event = loads(raw)
                        if event.get("stream") != stream:
                            continue
                        member.last_seq = event.get("seq") or member.last_seq
                        body = event.get("data", {}).get("body") or ""
                        if body.startswith("bench "):
                            parts = body.split(" ")
                            try:
                                record(index, int(parts[1]), int(parts[2]), int(parts[3]), now)
                            except (ValueError, IndexError):
                                self.other_frames["foreign bench body"] += 1
                    else:
                        self.other_frame(member, raw)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            except Exception as error:  # noqa: BLE001 - a bug here must not pass silently
                log(f"  member {index}: receiver failed: {error!r}")
                code = "client error"
                if member.ws is not None:
                    await member.ws.close()
            member.ready.clear()
            member.ws = None
            for future in member.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("socket closed"))
            member.pending.clear()
            if self.stopping:
                return
            member.closes.append(code)
            if member.reconnects >= 5:
                log(f"  member {index}: socket closed ({code}); no more reconnects")
                return
            member.reconnects += 1
            if self.current is not None:
                self.current.reconnects += 1
            log(f"  member {index}: socket closed ({code}); reconnecting and resuming after seq {member.last_seq}")
            for delay in (0.2, 0.5, 1, 2, 4):
                await asyncio.sleep(delay)
                try:
                    await self.open_socket(member)
                    break
                except Exception as error:  # noqa: BLE001 - any failure: try again, bounded
                    log(f"  member {index}: reconnect failed: {error!r}")
            else:
                return

    def other_frame(self, member, raw):
        event = loads(raw)
        kind = event.get("type")
        if kind == "resumed":
            member.ready.set()
        elif kind in ("message.sent", "error") and event.get("id") in member.pending:
            future = member.pending.pop(event["id"])
            if not future.done():
                future.set_result(event)
        elif kind != "ack":
            if kind in ("error", "resync"):
                kind = f"{kind} {event.get('code') or event.get('reason')}"
            (self.current.other_frames if self.current is not None else self.other_frames)[kind] += 1

    def record(self, member, key, n, due, now):
        run = self.active.get(key)
        if run is None:
            if self.current is not None and key != 0:
                self.current.stale += 1
            return
        counts = run.counts[member]
        if n >= run.total:
            run.beyond += 1
            return
        seen = counts[n]
        if seen == 0:
            run.latencies.append(now - due)
            run.first_copies += 1
            run.last_arrival = now
            if run.first_copies >= run.target:
                run.done.set()
        if seen < 255:
            counts[n] = seen + 1

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, run, n, due):
        sender = self.members[n % self.options.senders]
        body = f"bench {run.key} {n} {due}"
        client_id = f"{self.nonce}-{run.key}-{n}"
        started = monotonic_ns()
        run.start_lateness.append(started - due)
        if self.options.send_path == "rest":
            outcome = await self.send_rest(sender, body, client_id, run)
        else:
            outcome = await self.send_ws(sender, body, client_id, run, n)
        if outcome is None:
            run.accepted[n] = 1
            run.answer_times.append(monotonic_ns() - started)
        else:
            run.failed[outcome] += 1

    async def send_rest(self, sender, body, client_id, run):
        url = f"{sender.server}/api/v1/conversations/{self.conversation}/messages"
        data = json.dumps({"body": body, "clientMessageId": client_id})
        outcome = "no answer"
        for attempt in range(4):
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {sender.access}"}
            try:
                async with self.sessions[sender.server].post(url, data=data, headers=headers) as answer:
                    await answer.read()
                    if answer.status in (200, 201):
                        return None
                    outcome = f"HTTP {answer.status}"
                    if answer.status not in (429, 503):
                        return outcome
                    run.retries[answer.status] += 1
                    retry_after = answer.headers.get("Retry-After", "1")
                await asyncio.sleep(min(float(retry_after or 1), 5.0))
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                outcome = type(error).__name__
                run.retries[outcome] += 1
                await asyncio.sleep(0.2)
        return outcome

    async def send_ws(self, sender, body, client_id, run, n):
        outcome = "no answer"
        for attempt in range(4):
            frame_id = f"s{run.key}.{n}.{attempt}"
            try:
                await asyncio.wait_for(sender.ready.wait(), 10)
                future = asyncio.get_running_loop().create_future()
                sender.pending[frame_id] = future
                await sender.ws.send(json.dumps({"type": "message.send", "id": frame_id, "conversationId": self.conversation,
                                                 "body": body, "clientMessageId": client_id}))
                answer = await asyncio.wait_for(future, 30)
            except (asyncio.TimeoutError, ConnectionError, websockets.ConnectionClosed, AttributeError) as error:
                sender.pending.pop(frame_id, None)
                outcome = type(error).__name__
                run.retries[outcome] += 1
                await asyncio.sleep(0.2)
                continue
            if answer["type"] == "message.sent":
                return None
            outcome = f"error {answer.get('code')}"
            if answer.get("code") not in ("rate_limited", "unavailable"):
                return outcome
            run.retries[answer.get("code")] += 1
            await asyncio.sleep(1.0)
        return outcome

    async def drive(self, run):
        """The open-loop schedule: message n is due at start + n/rate, sent by sender n mod SENDERS.

        A thread keeps the time (time.sleep sleeps to the microsecond; the event loop wakes to the
        millisecond at best) and hands each message to the loop when it is due; the loop starts
        its send at once, or when one of the --max-in-flight slots frees. Any wait on this side
        counts in the latency and shows in sendStartLateMs."""
        loop = asyncio.get_running_loop()
        finished = loop.create_future()
        stop = threading.Event()
        queue = collections.deque()
        tasks = set()
        state = {"scheduled": False, "failure": None}
        limit = self.options.max_in_flight
        start = monotonic_ns() + 20_000_000
        run.first_due = start
        step = 1e9 / run.rate

        def settle():
            if state["scheduled"] and not tasks and not queue and not finished.done():
                finished.set_result(None)

        def sent(task):
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None and state["failure"] is None:
                state["failure"] = task.exception()
            pump()
            settle()

        def pump():
            while queue and len(tasks) < limit:
                n, due = queue.popleft()
                task = asyncio.create_task(self.send(run, n, due))
                tasks.add(task)
                task.add_done_callback(sent)
                run.issued += 1

        def due_now(n, due):
            if stop.is_set():
                return
            if monotonic_ns() - due > 30_000_000_000:
                stop.set()  # 30 s behind schedule: the server is not keeping up; send no more
                queue.clear()
                return
            queue.append((n, due))
            pump()

        def all_scheduled():
            state["scheduled"] = True
            settle()

        def keep_time():
            try:
                for n in range(run.total):
                    if stop.is_set():
                        break
                    due = start + round(n * step)
                    delay = due - monotonic_ns()
                    if delay > 0:
                        time.sleep(delay / 1e9)
                    loop.call_soon_threadsafe(due_now, n, due)
            finally:
                loop.call_soon_threadsafe(all_scheduled)

        timer = threading.Thread(target=keep_time, name="schedule", daemon=True)
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)  # the timer thread gets the interpreter soon after it wakes
        try:
            timer.start()
            await finished
        finally:
            stop.set()
            sys.setswitchinterval(switch_interval)
            timer.join(5)
        run.skipped = run.total - run.issued
        if state["failure"] is not None:
            raise state["failure"]

    # -- runs ------------------------------------------------------------------------------------

    async def measure(self, key, rate, seconds, drain):
        run = Run(key, rate, seconds, len(self.members))
        self.active[key] = run
        if key:
            self.current = run
        cpu_before, wall_before = time.process_time(), monotonic_ns()
        await self.drive(run)
        sent_by = monotonic_ns()
        run.target = sum(run.accepted) * len(self.members)
        if run.first_copies >= run.target:
            run.done.set()
        try:
            await asyncio.wait_for(run.done.wait(), drain)
        except asyncio.TimeoutError:
            pass
        # CPU over the busy part (sending, then until the last copy), not an idle drain
        busy = max(sent_by, run.last_arrival) - wall_before
        run.cpu = (time.process_time() - cpu_before) / max(busy / 1e9, 1e-9)
        del self.active[key]
        return run

    def summarize(self, run, rate, index):
        total = run.total
        unaccepted = [n for n in range(total) if not run.accepted[n]]
        lost = duplicated = unaccepted_copies = 0
        members_missing = 0
        for counts in run.counts:
            zeros = counts.count(0)
            zeros_unaccepted = sum(1 for n in unaccepted if counts[n] == 0)
            missing = zeros - zeros_unaccepted
            lost += missing
            members_missing += missing > 0
            duplicated += sum(counts) - (total - zeros)
            unaccepted_copies += len(unaccepted) - zeros_unaccepted
        ordered = sorted(run.latencies)
        lateness = sorted(run.start_lateness)
        answers = sorted(run.answer_times)
        span = (run.last_arrival - run.first_due) / 1e9 if run.last_arrival > run.first_due else 0
        accepted = total - len(unaccepted)
        return {
            "run": index,
            "scheduled": total,
            "sent": run.issued,
            "accepted": accepted,
            "failed": dict(run.failed),
            "skipped": run.skipped,
            "retried": {str(k): v for k, v in run.retries.items()},
            "copiesExpected": accepted * len(self.members),
            "copiesReceived": len(ordered),
            "lost": lost,
            "membersMissingCopies": members_missing,
            "duplicated": duplicated,
            "copiesOfUnacceptedSends": unaccepted_copies,
            "copiesBeyondSchedule": run.beyond,
            "staleCopiesOfEarlierRuns": run.stale,
            "reconnects": run.reconnects,
            "otherFrames": dict(run.other_frames),
            "deliveriesPerSecond": round(len(ordered) / span, 1) if span else None,
            "offeredDeliveriesPerSecond": rate * len(self.members),
            "latencyMs": {
                "p50": ms(percentile(ordered, 0.50)),
                "p90": ms(percentile(ordered, 0.90)),
                "p99": ms(percentile(ordered, 0.99)),
                "p999": ms(percentile(ordered, 0.999)),
                "max": ms(ordered[-1] if ordered else None),
                "min": ms(ordered[0] if ordered else None),
            },
            "sendAnswerMs": {"p50": ms(percentile(answers, 0.5)), "p99": ms(percentile(answers, 0.99)),
                             "max": ms(answers[-1] if answers else None)},
            "sendStartLateMs": {"p50": ms(percentile(lateness, 0.5)), "p99": ms(percentile(lateness, 0.99)),
                                "max": ms(lateness[-1] if lateness else None)},
            "clientCpu": round(run.cpu, 3),
        }

    async def setup(self):
        options = self.options
        for server in options.server:
            connector = aiohttp.TCPConnector(limit=options.max_in_flight + SETUP_CONCURRENCY, force_close=False)
            self.sessions[server] = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))
        started = time.monotonic()
        limit = asyncio.Semaphore(SETUP_CONCURRENCY)
        await asyncio.gather(*(self.register(member, limit) for member in self.members))
        owner = self.members[0]
        group = await self.call(owner.server, "POST", "/api/v1/groups",
                                {"title": f"latency.py {self.nonce}", "memberIds": [m.user_id for m in self.members[1:]]},
                                token=owner.access)
        self.conversation = group["id"]
        self.stream = f"conversation:{self.conversation}"

        async def connect(member):
            async with limit:
                await self.open_socket(member)
                member.task = asyncio.create_task(self.receive(member))
                await asyncio.wait_for(member.ready.wait(), 10)

        await asyncio.gather(*(connect(member) for member in self.members))
        limits = {m.frames_per_second for m in self.members}
        log(f"set up in {time.monotonic() - started:.1f} s: {len(self.members)} users registered, group "
            f"{self.conversation}, every member connected and resumed")
        if options.send_path == "ws":
            fps = min((f for f in limits if f), default=20)
            too_fast = [rate for rate in options.rates if rate / options.senders > fps]
            if too_fast:
                raise SetupError(f"the server allows {fps:g} frames/s per connection; rates {too_fast} are over "
                                 f"that per sender")
        # Warm-up, not reported: one message per sender opens the REST connections and wakes every path.
        warm = await self.measure(0, options.senders / 0.5, 0.5, 10)
        copies = len(warm.latencies)
        expected = sum(warm.accepted) * len(self.members)
        log(f"warm-up: {warm.issued} messages, {copies} of {expected} copies, max "
            f"{ms(max(warm.latencies) if copies else None)} ms")

    async def close(self):
        self.stopping = True
        for member in self.members:
            if member.ws is not None:
                try:
                    await asyncio.wait_for(member.ws.close(), 3)
                except Exception:  # noqa: BLE001 - closing at the end: nothing left to report
                    pass
        for member in self.members:
            if member.task is not None:
                member.task.cancel()
        await asyncio.gather(*(m.task for m in self.members if m.task is not None), return_exceptions=True)
        for session in self.sessions.values():
            await session.close()

    async def main(self):
        options = self.options
        results = []
        key = 0
        try:
            await self.setup()
            for rate in options.rates:
                runs = []
                for index in range(1, options.runs + 1):
                    oldest = min(m.token_time for m in self.members)
                    if time.monotonic() - oldest > TOKEN_LIFETIME - (options.seconds + options.drain + 120):
                        await self.refresh_tokens()
                    await asyncio.sleep(options.pause)
                    key += 1
                    gc.collect()
                    gc.disable()  # no collector pause inside the measurement
                    try:
                        run = await self.measure(key, rate, options.seconds, options.drain)
                    finally:
                        gc.enable()
                    self.current = None
                    summary = self.summarize(run, rate, index)
                    del run
                    runs.append(summary)
                    log(f"  {row(rate, summary)}")
                results.append(rate_result(options, self, rate, runs))
        finally:
            await self.close()
        return results


# ---------------------------------------------------------------------------------------------
# Report


def worst_of(runs):
    def severity(summary):
        latency = summary["latencyMs"]
        return (latency["p99"] if latency["p99"] is not None else math.inf, latency["max"] or 0)

    return max(runs, key=severity)


def rate_result(options, bench, rate, runs):
    worst = worst_of(runs)
    maxima = [r["latencyMs"]["max"] for r in runs if r["latencyMs"]["max"] is not None]
    return {
        "tool": "latency.py",
        "rate": rate,
        "members": options.members,
        "senders": options.senders,
        "sendPath": options.send_path,
        "seconds": options.seconds,
        "servers": options.server,
        "arrivalStamp": "socket read" if STAMPING else "recv returned",
        "runs": runs,
        "worst": worst,
        "maxOfMaxMs": max(maxima) if maxima else None,
        "lost": sum(r["lost"] for r in runs),
        "duplicated": sum(r["duplicated"] for r in runs),
        "failedSends": sum(sum(r["failed"].values()) + r["skipped"] for r in runs),
        "framesOutsideRuns": dict(bench.other_frames),
    }


def number(value):
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def notes(summary):
    found = []
    if summary["lost"]:
        found.append(f"LOST ({summary['membersMissingCopies']} members)")
    if summary["duplicated"]:
        found.append("DUPLICATED")
    failed = sum(summary["failed"].values())
    if failed:
        found.append(f"FAILED {failed}: " + ", ".join(f"{k}×{v}" for k, v in summary["failed"].items()))
    if summary["skipped"]:
        found.append(f"STOPPED 30 s behind, {summary['skipped']} not sent")
    if summary["retried"]:
        found.append("retried " + ", ".join(f"{k}×{v}" for k, v in summary["retried"].items()))
    if summary["reconnects"]:
        found.append(f"sockets closed and resumed: {summary['reconnects']}")
    problems = {k: v for k, v in summary["otherFrames"].items() if k.startswith(("error", "resync"))}
    if problems:
        found.append(", ".join(f"{k}×{v}" for k, v in problems.items()))
    if summary["staleCopiesOfEarlierRuns"]:
        found.append(f"{summary['staleCopiesOfEarlierRuns']} late copies of earlier runs")
    if summary["copiesBeyondSchedule"] or summary["copiesOfUnacceptedSends"]:
        found.append("unexpected copies")
    if summary["clientCpu"] >= 0.85:
        found.append("CLIENT BUSY")
    return "; ".join(found)


HEADER = ["rate", "run", "sent", "p50", "p99", "p99.9", "max", "lost", "dup", "late p99", "cpu", "notes"]


def cells(rate, summary):
    latency = summary["latencyMs"]
    return [f"{rate:g}", str(summary["run"]), str(summary["sent"]), number(latency["p50"]), number(latency["p99"]),
            number(latency["p999"]), number(latency["max"]), str(summary["lost"]), str(summary["duplicated"]),
            number(summary["sendStartLateMs"]["p99"]), f"{summary['clientCpu'] * 100:.0f}%", notes(summary)]


def row(rate, summary):
    return " | ".join(cells(rate, summary))


def table(options, results):
    rows = [HEADER]
    worst_lines = []
    for result in results:
        for summary in result["runs"]:
            rows.append(cells(result["rate"], summary))
        worst = result["worst"]
        latency = worst["latencyMs"]
        worst_lines.append(
            f"{result['rate']:g} msg/s, worst of {len(result['runs'])} (run {worst['run']}): p50 {number(latency['p50'])}, "
            f"p99 {number(latency['p99'])}, p99.9 {number(latency['p999'])}, max {number(latency['max'])} ms; "
            f"max of max {number(result['maxOfMaxMs'])} ms; lost {result['lost']}, duplicated {result['duplicated']}"
            + (f", failed sends {result['failedSends']}" if result["failedSends"] else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    lines = [
        f"send→receive latency, ms: {options.members} members, {options.senders} senders, {options.send_path.upper()} sends, "
        f"{options.seconds:g} s per run, {len(options.server)} node(s), arrival stamped at "
        + ("the socket read" if STAMPING else "recv() (websockets too old to stamp the socket read)"),
    ]
    for index, r in enumerate(rows):
        text = " | ".join(cell.rjust(widths[i]) if i < len(widths) else cell for i, cell in enumerate(r))
        lines.append(text.rstrip(" |") if not r[-1] else text)
        if index == 0:
            lines.append("-" * len(text))
    lines.append("")
    lines.extend(worst_lines)
    lines.append("(late p99: this client's own lateness starting sends, included in the latency; "
                 "cpu: this client's CPU, share of one core)")
    return "\n".join(lines)


def main(argv=None):
    options = parse_options(sys.argv[1:] if argv is None else argv)
    per_run = options.seconds + options.pause + options.drain
    log(f"latency.py: {options.members} members, {options.senders} senders, {options.send_path} sends, rates "
        f"{','.join(f'{r:g}' for r in options.rates)} msg/s, {options.runs} × {options.seconds:g} s each, "
        f"nodes {' '.join(options.server)}; at most about "
        f"{len(options.rates) * options.runs * per_run / 60:.1f} min after set-up")
    bench = Bench(options)
    try:
        results = asyncio.run(bench.main())
    except SetupError as error:
        log(f"latency.py: {error}")
        return 2
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as error:
        log(f"latency.py: {type(error).__name__}: {error} (is the server running on {' '.join(options.server)}?)")
        return 2
    report = table(options, results)
    if options.json:
        lines = "".join(json.dumps(result) + "\n" for result in results)
        if options.json == "-":
            sys.stdout.write(lines)
            log(report)
        else:
            with open(options.json, "a") as output:
                output.write(lines)
            print(report)
    else:
        print(report)
    bad = any(r["lost"] or r["duplicated"] or r["failedSends"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
