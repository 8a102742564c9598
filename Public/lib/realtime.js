// The realtime connection (asyncapi.yaml): one WebSocket per tab that authenticates with its first
// frame, resumes from the last seq seen per stream, and reconnects with exponential backoff.
//
// Delivery guarantees and how this keeps them:
// - The server delivers each logged event once, in order, per stream; we keep the last seq per
//   stream ("cursors") in memory and in localStorage, resume from them after any reconnect or reload,
//   and drop anything at or below a cursor (a second line of defence against duplicates).
// - When the server cannot replay from a cursor it sends `resync`: the app refetches that stream's
//   state over REST (the `resync` event below).
//
// Events this object dispatches (it is an EventTarget; `detail` holds the payload):
//   state    "connecting" | "connected" | "reconnecting" | "offline"
//   hello    the hello frame          resumed   the replay is over: live from here
//   event    a logged event           resync    {stream, reason, lastSeq}
//   frame    any other server frame (typing, presence.changed…)
//   revoked  {code, reason}: closed 4500–4999, the session is over: do not reconnect
import * as session from "./session.js";
import { realtimeUrl } from "./api.js";

const RETRY_CODES = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1014]);
const retryable = (code) => RETRY_CODES.has(code) || (code >= 4000 && code < 4500);
const BASE_DELAY = 500;
const MAX_DELAY = 30_000;
const PING_EVERY = 30_000;
const PONG_WITHIN = 10_000;

export class Realtime extends EventTarget {
  state = "offline";
  cursors = {};        // stream → last seq seen
  removed = new Set(); // streams forgotten here since the last write to localStorage
  hello = null;
  socket = null;
  attempt = 0;
  stopped = true;
  pending = new Map(); // frame id → {resolve, reject, timer}
  holdUntil = 0;       // test hook: no reconnect before this time
  lastClose = null;
  nextId = 0;

  constructor(userId) {
    super();
    this.storageKey = `parley.cursors.${userId}`;
    this.cursors = readCursors(this.storageKey);
    addEventListener("online", () => { if (!this.stopped && !this.socket) this.connectNow(); });
    addEventListener("offline", () => { if (!this.stopped && !this.socket) this.setState("offline"); });
    // A tab coming back to the foreground after a long sleep should not wait out a 30 s backoff.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.stopped && !this.socket) this.connectNow();
    });
    addEventListener("pagehide", () => this.saveCursors());
  }

  /**
   * Connects, resuming each stream from the later of the stored cursor and `positions` (what the
   * REST snapshot the app just loaded already reflects, e.g. each conversation's lastSeq).
   */
  start(positions = {}) {
    for (const [stream, seq] of Object.entries(positions)) {
      if (!(this.cursors[stream] >= seq)) this.cursors[stream] = seq;
    }
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.saveCursors();
    this.detach(1000, "signed out");
    this.setState("offline");
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    const socket = new WebSocket(realtimeUrl);
    this.socket = socket;
    socket.onopen = async () => {
      try {
        const token = await session.accessToken();
        if (this.socket !== socket) return;
        // The first frame authenticates (browsers cannot set an Authorization header on a
        // WebSocket) and carries the cursors, so the server replays what we missed.
        socket.send(JSON.stringify({ type: "auth", token, cursors: this.cursors }));
      } catch {
        this.detach(4000, "no token"); // the session ended meanwhile; app.js stops us
      }
    };
    socket.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch { return; }
      this.onFrame(frame);
    };
    socket.onclose = (event) => { if (this.socket === socket) this.onClose(event.code, event.reason); };
  }

  onFrame(frame) {
    if (typeof frame.seq === "number" && typeof frame.stream === "string") return this.onEvent(frame);
    switch (frame.type) {
      case "hello": {
        this.hello = frame;
        if (!this.everConnected) performance.mark("parley:hello");
        this.everConnected = true;
        // Forget cursors of streams we no longer follow (a conversation left while away).
        for (const stream of Object.keys(this.cursors)) {
          if (!(stream in frame.streams)) { delete this.cursors[stream]; this.removed.add(stream); }
        }
        // Streams we had no cursor for start live from hello's position.
        for (const [stream, seq] of Object.entries(frame.streams)) this.cursors[stream] ??= seq;
        this.dispatchEvent(new CustomEvent("hello", { detail: frame }));
        break;
      }
      case "resumed":
        if (!performance.getEntriesByName("parley:live").length) performance.mark("parley:live");
        this.attempt = 0;
        this.setState("connected");
        this.startPinging();
        this.saveCursors();
        this.dispatchEvent(new CustomEvent("resumed", { detail: frame }));
        break;
      case "resync":
        if (frame.reason === "unknown") { delete this.cursors[frame.stream]; this.removed.add(frame.stream); }
        else if (typeof frame.lastSeq === "number") this.cursors[frame.stream] = frame.lastSeq;
        this.saveCursorsSoon();
        this.dispatchEvent(new CustomEvent("resync", { detail: frame }));
        break;
      default: {
        const waiter = frame.id !== undefined && this.pending.get(frame.id);
        if (waiter) {
          this.pending.delete(frame.id);
          clearTimeout(waiter.timer);
          frame.type === "error" ? waiter.reject(frame) : waiter.resolve(frame);
        }
        this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
      }
    }
  }

  onEvent(event) {
    const last = this.cursors[event.stream];
    if (last !== undefined && event.seq <= last) return; // seen already
    if (last !== undefined && event.seq > last + 1) {
      // A gap should never happen (the server fills gaps from its log); if it does, the safe
      // answer is the server's own: refetch the stream.
      this.dispatchEvent(new CustomEvent("resync", { detail: { stream: event.stream, reason: "gap", lastSeq: event.seq } }));
    }
    this.cursors[event.stream] = event.seq;
    this.removed.delete(event.stream);
    this.saveCursorsSoon();
    this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  /** Stops following a stream (we left the conversation). */
  forget(stream) {
    delete this.cursors[stream];
    this.removed.add(stream);
    this.saveCursorsSoon();
  }

  onClose(code, reason) {
    this.socket = null;
    this.lastClose = { code, reason };
    clearInterval(this.pingTimer);
    for (const [, waiter] of this.pending) { clearTimeout(waiter.timer); waiter.reject({ code: "closed" }); }
    this.pending.clear();
    if (this.stopped) return;
    if (code >= 4500 && code < 5000) {
      this.stopped = true;
      this.setState("offline");
      this.dispatchEvent(new CustomEvent("revoked", { detail: { code, reason } }));
      return;
    }
    if (code === 4001) {
      // The token was refused (expired while we slept, say): get a fresh one first.
      session.refresh().then(() => this.scheduleReconnect(), () => this.scheduleReconnect());
      return;
    }
    if (retryable(code)) return this.scheduleReconnect(code === 4010 ? 10_000 : 0);
    // 1000, 1008, 1009…: the server closed on purpose or we sent something wrong; reconnecting at
    // once would loop. Show "offline" and let a later `online`/visibility change or the
    // Reconnect button try again.
    this.setState("offline");
  }

  /** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s… up to 30 s, each randomized by half. */
  scheduleReconnect(minimum = 0) {
    if (!navigator.onLine) { this.setState("offline"); return; }
    this.setState("reconnecting");
    const ceiling = Math.min(MAX_DELAY, BASE_DELAY * 2 ** this.attempt);
    const delay = Math.max(minimum, ceiling / 2 + Math.random() * ceiling / 2, this.holdUntil - Date.now());
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnects at once (network back, tab visible again, the user pressed Reconnect). */
  connectNow() {
    if (this.stopped || this.socket || Date.now() < this.holdUntil) return;
    this.attempt = 0;
    this.connect();
  }

  /** Closes the socket without waiting for the close handshake; onClose runs later if asked. */
  detach(code, reason) {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onclose = socket.onmessage = socket.onopen = null;
    try { socket.close(code, reason); } catch { /* already closing */ }
  }

  /**
   * The server pings at the WebSocket level, but a browser cannot see those: an application ping
   * notices a dead link (a laptop that slept, a NAT that forgot us) and reconnects.
   */
  startPinging() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.request({ type: "ping" }, PONG_WITHIN).catch((error) => {
        if (error?.code === "timeout" && this.socket) { this.detach(4000, "no pong"); this.onClose(1006, "no pong"); }
      });
    }, PING_EVERY);
  }

  get live() { return this.state === "connected" && this.socket?.readyState === WebSocket.OPEN; }

  /** Sends a frame if connected; returns whether it went. */
  send(frame) {
    if (!this.live) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a frame with an id and resolves with the answer carrying that id (ack, pong…). */
  request(frame, timeout = 10_000) {
    return new Promise((resolve, reject) => {
      const id = `c${++this.nextId}`;
      if (!this.send({ ...frame, id })) return reject({ code: "offline" });
      const timer = setTimeout(() => { this.pending.delete(id); reject({ code: "timeout" }); }, timeout);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  /** Presents a fresh access token on the open connection before the old one expires. */
  reauthenticate() {
    if (this.socket?.readyState === WebSocket.OPEN && this.hello) {
      this.socket.send(JSON.stringify({ type: "auth", token: session.current().accessToken }));
    }
  }

  saveCursorsSoon() {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.saveCursors(), 500);
  }

  /** Writes cursors, merged with what other tabs of this user wrote (the later seq wins). */
  saveCursors() {
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    const stored = readCursors(this.storageKey);
    for (const stream of this.removed) delete stored[stream];
    for (const [stream, seq] of Object.entries(this.cursors)) stored[stream] = Math.max(seq, stored[stream] ?? 0);
    this.removed.clear();
    try { localStorage.setItem(this.storageKey, JSON.stringify(stored)); } catch { /* storage full: resume from hello instead */ }
  }

  /**
   * Test hook (only wired up with ?test in the URL): drops the connection as a network failure
   * would and keeps it down for `holdMs`, then reconnects and resumes as usual.
   */
  simulateDrop(holdMs = 0) {
    this.holdUntil = Date.now() + holdMs;
    this.detach(4000, "simulated drop");
    this.onClose(1006, "simulated drop");
  }
}

function readCursors(key) {
  try { return JSON.parse(localStorage.getItem(key)) ?? {}; } catch { return {}; }
}
