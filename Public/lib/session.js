// The signed-in session: its tokens, kept in localStorage so every tab of this browser shares one
// session, and refreshed before the access token expires.
//
// A refresh token works once: presenting a spent one revokes the whole session. With several tabs
// open, each would try to refresh at about the same time, so exactly one refreshes while holding a
// lock (the Web Locks API), stores the new pair, and the others, waiting on the same lock, find the
// pair already renewed and adopt it. Tabs also learn of new pairs and of sign-outs through the
// `storage` event, which the browser fires in every other tab of the origin.
import { ApiError, send } from "./api.js";

const KEY = "parley.session";
const ENDED_KEY = "parley.session-ended";
const LEASE_KEY = "parley.refresh-lease";
const MARGIN = 60_000; // refresh this long before expiry

let current_ = read();
let timer;
const listeners = new Set();

function read() {
  try { return JSON.parse(localStorage.getItem(KEY)) ?? null; } catch { return null; }
}

/** The session now: {accessToken, refreshToken, expiresAt, sessionId, userId}, or null. */
export function current() { return current_; }

/** Subscribes to changes: fn("tokens") after a refresh here or elsewhere, fn("ended", reason). */
export function onChange(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function emit(...args) { for (const fn of listeners) fn(...args); }

/** Keeps a new session (the answer of register or login). */
export function start(auth) {
  store({ accessToken: auth.accessToken, refreshToken: auth.refreshToken, expiresAt: Date.now() + auth.expiresIn * 1000, sessionId: auth.sessionId, userId: auth.user.id });
  localStorage.removeItem(ENDED_KEY);
}

function store(next) {
  current_ = next;
  localStorage.setItem(KEY, JSON.stringify(next));
  schedule();
}

/**
 * Ends the session here and in every tab: forgets the tokens and tells the app, which shows the
 * sign-in screen with a message for `reason` (see app.js). Does not call the server: logging out
 * is the caller's business.
 */
export function end(reason) {
  if (!current_) return;
  current_ = null;
  clearTimeout(timer);
  localStorage.setItem(ENDED_KEY, reason); // first, so other tabs can read it when KEY goes
  localStorage.removeItem(KEY);
  emit("ended", reason);
}

/** A valid access token, refreshed first when it is about to expire. */
export async function accessToken() {
  if (!current_) throw new ApiError({ status: 401, code: "unauthorized", detail: "Not signed in." });
  if (current_.expiresAt - Date.now() < MARGIN) await refresh(current_.accessToken);
  return current_.accessToken;
}

let inFlight = null;
/**
 * Renews the token pair, unless someone (another tab) already replaced `staleToken`. Network
 * failures keep the session (the next attempt may work); a refusal (401) ends it.
 */
export function refresh(staleToken = current_?.accessToken) {
  inFlight ??= withLock(async () => {
    const stored = read(); // fresher than ours if another tab refreshed while we waited
    if (!stored) { end("expired"); throw new ApiError({ status: 401, code: "unauthorized" }); }
    if (stored.accessToken !== staleToken && stored.expiresAt - Date.now() > MARGIN) {
      adopt(stored);
      return;
    }
    try {
      const pair = await send("POST", "/auth/refresh", { body: { refreshToken: stored.refreshToken } });
      store({ ...stored, accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: Date.now() + pair.expiresIn * 1000 });
      emit("tokens");
    } catch (error) {
      if (error.status === 401) end("expired");
      throw error;
    }
  }).finally(() => { inFlight = null; });
  return inFlight;
}

function adopt(stored) {
  current_ = stored;
  schedule();
  emit("tokens");
}

/** Runs fn holding the origin-wide refresh lock. */
async function withLock(fn) {
  if (navigator.locks) return navigator.locks.request("parley.refresh", fn);
  // No Web Locks (pages served over plain http from a host other than localhost): a lease in
  // localStorage, which keeps tabs apart in all but a narrow race. The server also forgives a
  // refresh token presented twice within 10 seconds while its successor is unused.
  for (let i = 0; i < 50 && Number(localStorage.getItem(LEASE_KEY)) > Date.now(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  localStorage.setItem(LEASE_KEY, String(Date.now() + 10_000));
  try { return await fn(); } finally { localStorage.removeItem(LEASE_KEY); }
}

/** Refreshes a minute before expiry, with a little jitter so that tabs rarely even queue. */
function schedule() {
  clearTimeout(timer);
  if (!current_) return;
  const delay = Math.max(0, current_.expiresAt - Date.now() - MARGIN - Math.random() * 10_000);
  timer = setTimeout(() => refresh(current_?.accessToken).catch(() => {
    // Offline, say: try again in a while; a 401 has already ended the session.
    if (current_) timer = setTimeout(schedule, 15_000);
  }), delay);
}

// Another tab refreshed, signed in as someone else, or signed out.
addEventListener("storage", (event) => {
  if (event.key !== KEY && event.key !== null) return;
  const stored = read();
  if (!stored) {
    if (current_) { current_ = null; clearTimeout(timer); emit("ended", localStorage.getItem(ENDED_KEY) ?? "elsewhere"); }
  } else if (!current_ || stored.sessionId !== current_.sessionId) {
    current_ = stored; schedule(); emit("switched");
  } else if (stored.accessToken !== current_.accessToken) {
    adopt(stored);
  }
});

schedule();
