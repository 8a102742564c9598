// The page's state and everything that changes it: REST snapshots, realtime events and the user's
// own actions. Views read `state`, subscribe to topics with on(), and call the actions exported
// here; they never call the API for data that other views show.
//
// Consistency between REST snapshots and the event stream:
// - Conversation list: each conversation's `lastSeq` is the position of its stream that the
//   snapshot reflects, so list-level changes (last message, unread count, order) apply only for
//   events past it. The realtime connection resumes from those positions too.
// - History (a thread): while a page of messages is being fetched, that conversation's events are
//   queued, then applied on top of the page: a message is inserted once (by id), an edit only if
//   it is not older than what we show, a deletion always. A reaction to a message the page
//   already held is ambiguous (it may be counted in the page or not), so the thread is fetched
//   again — rare, and it converges.
import * as api from "./api.js";
import * as session from "./session.js";
import { Realtime } from "./realtime.js";
import { announce, randomId } from "./dom.js";
import { preference, receivePreferences, resetPreferences, migrateLocalPreferences } from "./preferences.js";
import { startAlerts, stopAlerts, alert } from "./alerts.js";

export const state = {
  me: null,
  prefs: null,
  conversations: new Map(), // id → Conversation as GET /conversations gives it, plus `rank`
  threads: new Map(),       // id → Thread (below): the history loaded for a conversation
  members: new Map(),       // id → Map(userId → Member), loaded on demand
  users: new Map(),         // userId → PublicUser, from members, searches and events
  presence: new Map(),      // userId → {status, lastSeenAt}
  contacts: new Set(),      // userIds
  blocks: new Set(),        // userIds
  typing: new Map(),        // conversationId → Map(userId → expiry time)
  connection: "connecting",
  openId: null,             // the conversation on screen
  // The notification inbox: the newest pages loaded (newest first), the unread count of all of
  // them (the server's), and the cursor of the next page.
  inbox: { items: [], unreadCount: 0, nextCursor: null, loaded: false },
  conversationPrefs: new Map(), // conversationId → ConversationPreferences (ours), loaded on demand
};
export let realtime = null;

// ——— Subscriptions ———
// Topics: me, prefs, appearance, list, inbox, contacts, presence, connection, sessions,
// conversation:<id>, thread:<id>, members:<id>, typing:<id>, settings:<id>. Notifications are
// batched per microtask, so a burst of events renders once.
const listeners = new Map();
const dirty = new Set();
export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic)?.delete(fn);
}
export function emit(topic) {
  if (dirty.size === 0) queueMicrotask(flush);
  dirty.add(topic);
}
function flush() {
  const topics = [...dirty];
  dirty.clear();
  for (const topic of topics) for (const fn of listeners.get(topic) ?? []) fn(topic);
}

// ——— Conversations ———
let rankCounter = 1e9; // newer activity gets a higher rank; the server's order breaks ties

export function sortedConversations() {
  return [...state.conversations.values()].sort((a, b) => b.rank - a.rank);
}

/** Loads every conversation (pages of 100). Returns the stream positions the snapshot reflects. */
export async function loadConversations() {
  const items = [];
  let cursor;
  for (let page = 0; page < 20; page++) {
    const result = await api.listConversations(cursor);
    items.push(...result.items);
    if (!(cursor = result.nextCursor)) break;
  }
  const seen = new Set();
  items.forEach((conversation, index) => {
    seen.add(conversation.id);
    putConversation(conversation, items.length - index);
  });
  for (const id of state.conversations.keys()) if (!seen.has(id)) dropConversation(id);
  emit("list");
  return Object.fromEntries(items.map((c) => [`conversation:${c.id}`, c.lastSeq]));
}

function putConversation(conversation, rank) {
  const old = state.conversations.get(conversation.id);
  const merged = { ...conversation, rank: rank ?? old?.rank ?? ++rankCounter, peerId: old?.peerId };
  if (merged.kind === "direct" && !merged.peerId && conversation.lastMessage && conversation.lastMessage.senderId !== state.me.id) {
    merged.peerId = conversation.lastMessage.senderId;
  }
  state.conversations.set(conversation.id, merged);
  emit(`conversation:${conversation.id}`);
  return merged;
}

const staleSnapshots = new Map(); // conversationId → snapshots refused in a row as older than our events

/** Fetches one conversation (new to us, or to bring its unread and mention counts up to date). */
export async function refreshConversation(id, { bump = false } = {}) {
  try {
    const conversation = await api.getConversation(id);
    // Events applied while it was on its way are newer than this snapshot: ask again (a few times).
    const known = state.conversations.get(id);
    const stale = staleSnapshots.get(id) ?? 0;
    if (known && known.lastSeq > conversation.lastSeq && stale < 3) {
      staleSnapshots.set(id, stale + 1);
      scheduleRefresh(id);
      return known;
    }
    staleSnapshots.delete(id);
    putConversation(conversation, bump ? ++rankCounter : undefined);
    emit("list");
    return state.conversations.get(id);
  } catch (error) {
    if (error.status === 404) { dropConversation(id); emit("list"); return null; }
    throw error;
  }
}

function dropConversation(id) {
  state.conversations.delete(id);
  state.threads.delete(id);
  state.members.delete(id);
  state.typing.delete(id);
  realtime?.forget(`conversation:${id}`);
  emit(`conversation:${id}`);
}

/** The other person of a direct conversation (loads the members when we do not know yet). */
// (GET /conversations does not name the other person of a direct conversation, so the members
// are fetched once per direct conversation whose last message does not tell.)
const peerRequests = new Map();
export function peerOf(conversation) {
  if (conversation.kind !== "direct") return Promise.resolve(null);
  if (conversation.peerId) return Promise.resolve(conversation.peerId);
  if (!peerRequests.has(conversation.id)) {
    peerRequests.set(conversation.id, loadMembers(conversation.id).then((members) => {
      const peer = [...members.keys()].find((userId) => userId !== state.me.id);
      const current = state.conversations.get(conversation.id);
      if (peer && current) { current.peerId = peer; emit("list"); emit(`conversation:${conversation.id}`); }
      return peer;
    }).finally(() => peerRequests.delete(conversation.id)));
  }
  return peerRequests.get(conversation.id);
}

export async function loadMembers(id) {
  const { items } = await api.listMembers(id);
  const map = new Map(items.map((member) => [member.user.id, member]));
  for (const member of items) rememberUser(member.user);
  state.members.set(id, map);
  const mine = map.get(state.me.id);
  const conversation = state.conversations.get(id);
  if (conversation && mine) { conversation.myRole = mine.role; conversation.memberCount = items.length; emit(`conversation:${id}`); }
  emit(`members:${id}`);
  return map;
}

export function rememberUser(user) {
  state.users.set(user.id, { ...state.users.get(user.id), ...user });
  if (user.lastSeenAt && !state.presence.has(user.id)) state.presence.set(user.id, { status: "offline", lastSeenAt: user.lastSeenAt });
}

const userRequests = new Map();
/** The user's name as we know it; fetches the profile once when we do not. */
export function userName(userId) {
  if (userId === state.me?.id) return state.me.displayName;
  const user = state.users.get(userId);
  if (user) return user.displayName;
  if (!userRequests.has(userId)) {
    userRequests.set(userId, api.getUser(userId).then((u) => { rememberUser(u); emit("users"); }, () => {}));
  }
  return "Someone";
}

// ——— Threads (history) ———

/**
 * A conversation's loaded history: `messages` by id, `order` (ids by seq), whether older ones
 * exist (`hasMore`), messages being sent (`pending`, by clientMessageId), and the queue of events
 * held while a page is fetched.
 */
function threadOf(id) {
  let thread = state.threads.get(id);
  if (!thread) {
    thread = { messages: new Map(), order: [], hasMore: true, loaded: false, pending: new Map(), fetching: 0, queue: [], ambiguous: false, readSent: 0, reconcileFrom: undefined };
    state.threads.set(id, thread);
  }
  return thread;
}
export function thread(id) { return state.threads.get(id); }

/** Loads the newest page of a conversation's history (once; later events keep it current). */
export async function openThread(id) {
  const t = threadOf(id);
  if (!t.loaded) await fetchPage(id, {});
  return t;
}

/** Loads the page before the oldest message loaded (infinite scroll back). */
export async function loadOlder(id) {
  const t = threadOf(id);
  if (!t.hasMore || t.loadingOlder) return;
  const oldest = t.order.length ? t.messages.get(t.order[0]).seq : undefined;
  t.loadingOlder = true;
  emit(`thread:${id}`);
  try { await fetchPage(id, { before: oldest }); } finally { t.loadingOlder = false; emit(`thread:${id}`); }
}

async function fetchPage(id, { before }, attempt = 0) {
  const t = threadOf(id);
  const stream = `conversation:${id}`;
  const cursorAtStart = realtime?.cursors[stream];
  const liveAtStart = realtime?.live;
  t.fetching++;
  let page;
  try {
    page = await api.listMessages(id, { before, limit: 50 });
  } finally {
    t.fetching--;
  }
  for (const message of page.items) putMessage(t, message, { overwrite: true });
  if (before !== undefined || !t.loaded) t.hasMore = page.hasMore;
  t.loaded = true;
  // Fetched while the socket was down: events replayed on reconnect may already be in this page.
  if (!liveAtStart && cursorAtStart !== undefined) t.reconcileFrom = Math.min(t.reconcileFrom ?? Infinity, cursorAtStart);
  if (t.fetching === 0) flushQueue(id, t);
  emit(`thread:${id}`);
  if (t.ambiguous && attempt < 3) { t.ambiguous = false; await fetchPage(id, {}, attempt + 1); }
}

function putMessage(t, message, { overwrite = false } = {}) {
  const existing = t.messages.get(message.id);
  if (existing && !overwrite) return false;
  t.messages.set(message.id, { ...message });
  if (!existing) {
    // Insert keeping `order` sorted by seq; new messages nearly always go last.
    let i = t.order.length;
    while (i > 0 && t.messages.get(t.order[i - 1]).seq > message.seq) i--;
    t.order.splice(i, 0, message.id);
  }
  if (message.senderId === state.me?.id) t.pending.delete(message.clientMessageId);
  return !existing;
}

function flushQueue(id, t) {
  const queued = t.queue;
  t.queue = [];
  for (const event of queued) applyToThread(id, t, event, { queued: true });
}

function applyToThread(id, t, event, { queued = false } = {}) {
  const data = event.data;
  switch (event.type) {
    case "message.created":
      putMessage(t, data);
      break;
    case "message.updated": {
      const message = t.messages.get(data.id);
      if (!message || message.deleted || (message.editedAt && data.editedAt < message.editedAt)) break;
      if (data.body !== undefined) message.body = data.body;
      message.editedAt = data.editedAt;
      break;
    }
    case "message.deleted": {
      const message = t.messages.get(data.id);
      if (message) { message.deleted = true; delete message.body; message.reactions = []; }
      break;
    }
    case "reaction.added":
    case "reaction.removed": {
      const message = t.messages.get(data.messageId);
      if (!message || message.deleted) break;
      if (queued && data.userId !== state.me.id) { t.ambiguous = true; break; }
      applyReaction(message, data, event.type === "reaction.added");
      break;
    }
  }
  emit(`thread:${id}`);
}

function applyReaction(message, { emoji, userId }, added) {
  const mine = userId === state.me.id;
  let reaction = message.reactions.find((r) => r.emoji === emoji);
  // Our own reactions are exact (we know `me`), so replays cannot double-count them.
  if (mine && reaction && reaction.me === added) return;
  if (added) {
    if (!reaction) message.reactions.push(reaction = { emoji, count: 0, me: false });
    reaction.count++;
    if (mine) reaction.me = true;
  } else if (reaction) {
    reaction.count--;
    if (mine) reaction.me = false;
    if (reaction.count <= 0) message.reactions = message.reactions.filter((r) => r !== reaction);
  }
}

/**
 * Sends a message: shown at once as pending, retried on network errors without duplicates.
 * `attachments`: uploads (POST /uploads answers), each with a `previewUrl` to show meanwhile.
 */
export function sendMessage(id, body, replyToId, attachments = []) {
  const t = threadOf(id);
  const pending = { clientMessageId: randomId(), body, replyToId, attachments, status: "sending", createdAt: new Date().toISOString(), senderId: state.me.id, reactions: [] };
  t.pending.set(pending.clientMessageId, pending);
  emit(`thread:${id}`);
  deliver(id, pending);
}

/** Tries again to send a message that failed. The same clientMessageId: never a duplicate. */
export function retrySend(id, clientMessageId) {
  const pending = state.threads.get(id)?.pending.get(clientMessageId);
  if (!pending || pending.status === "sending") return;
  pending.status = "sending";
  emit(`thread:${id}`);
  deliver(id, pending);
}

async function deliver(id, pending) {
  for (let attempt = 0; ; attempt++) {
    try {
      const message = await api.sendMessage(id, {
        clientMessageId: pending.clientMessageId, body: pending.body || undefined, replyToId: pending.replyToId,
        attachments: pending.attachments.length ? pending.attachments.map((a) => a.id) : undefined,
      });
      const t = threadOf(id);
      if (t.fetching) t.queue.push({ type: "message.created", data: message });
      else putMessage(t, message);
      t.pending.delete(pending.clientMessageId);
      emit(`thread:${id}`);
      // The sent message shows the server's thumbnails now; the local previews can go.
      setTimeout(() => { for (const a of pending.attachments) if (a.previewUrl) URL.revokeObjectURL(a.previewUrl); }, 5000);
      return;
    } catch (error) {
      // Not sent, or sent with the answer lost: the same clientMessageId makes the retry safe.
      if (!(error.transient && attempt < 4 && state.threads.get(id)?.pending.has(pending.clientMessageId))) {
        pending.status = "failed";
        pending.error = error.message;
        emit(`thread:${id}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, error.retryAfter ? error.retryAfter * 1000 : 500 * 2 ** attempt));
    }
  }
}

/** Retries every failed send (the connection is back). */
function retryFailedSends() {
  for (const [id, t] of state.threads) for (const pending of t.pending.values()) if (pending.status === "failed") retrySend(id, pending.clientMessageId);
}

export function discardPending(id, clientMessageId) {
  state.threads.get(id)?.pending.delete(clientMessageId);
  emit(`thread:${id}`);
}

export async function editMessage(conversationId, messageId, body) {
  const message = await api.editMessage(messageId, body);
  applyToThread(conversationId, threadOf(conversationId), { type: "message.updated", data: message });
}

export const deleteMessage = (messageId) => api.deleteMessage(messageId);

export function toggleReaction(message, emoji) {
  const mine = message.reactions.find((r) => r.emoji === emoji)?.me;
  return mine ? api.removeReaction(message.id, emoji) : api.addReaction(message.id, emoji);
}

/**
 * Moves our read position to the newest loaded message (the view calls this when that message is
 * on screen and the tab is visible). Over the socket when connected, else over REST.
 */
export function markRead(id) {
  const t = state.threads.get(id);
  const conversation = state.conversations.get(id);
  if (!t || !conversation || !t.order.length) return;
  const seq = t.messages.get(t.order[t.order.length - 1]).seq;
  const mine = state.members.get(id)?.get(state.me.id);
  if (seq <= t.readSent || seq <= (mine?.lastReadSeq ?? 0) && conversation.unreadCount === 0) return;
  t.readSent = seq;
  if (!realtime?.send({ type: "read", conversationId: id, seq })) api.markRead(id, seq).catch(() => { t.readSent = 0; });
  // The server also reads this conversation's notifications; `notifications.read` follows.
  if (conversation.unreadCount || conversation.mentionCount) { conversation.unreadCount = 0; conversation.mentionCount = 0; emit("list"); }
}

/** Whether a message names us: `@username`, or `@all` where it counts (the server says which). */
export function mentionsMe(message, conversation = state.conversations.get(message.conversationId)) {
  if (!message || message.senderId === state.me?.id) return false;
  return Boolean(message.mentions?.includes(state.me?.id) || (message.mentionsAll && conversation?.kind === "group"));
}

/** Tells the others we are typing: at most once every 2 s (the server drops more anyway). */
const lastTyping = new Map();
export function typing(id) {
  const now = Date.now();
  if (now - (lastTyping.get(id) ?? 0) < 2000) return;
  if (realtime?.send({ type: "typing", conversationId: id })) lastTyping.set(id, now);
}

export function typingUsers(id) {
  const now = Date.now();
  return [...(state.typing.get(id) ?? new Map())].filter(([, until]) => until > now).map(([userId]) => userId);
}

/** A message in one line: its text, or what it carries ("Photo", "3 photos"). */
export function preview(message) {
  if (message.deleted) return "Message deleted";
  if (message.body) return message.body;
  const n = message.attachments?.length ?? 0;
  return n === 1 ? "Photo" : n > 1 ? `${n} photos` : "";
}

// ——— Realtime ———

/** Applies a logged event from the socket. */
function onEvent(event) {
  const [kind, streamId] = event.stream.split(":");
  if (kind === "user") return onUserEvent(event);
  const id = streamId;
  const conversation = state.conversations.get(id);
  const data = event.data;
  // List-level state, for events the conversation's snapshot does not reflect yet.
  if (conversation && event.seq > conversation.lastSeq) {
    conversation.lastSeq = event.seq;
    updateListState(conversation, event);
  } else if (!conversation && event.type !== "conversation.deleted") {
    scheduleRefresh(id);
  }
  if (event.type === "profile.updated") { rememberUser(data.user); emit("users"); }
  // Members.
  const members = state.members.get(id);
  if (members) updateMembers(id, members, event);
  // History.
  const t = state.threads.get(id);
  if (t?.loaded || t?.fetching) {
    if (t.fetching) t.queue.push(event);
    else applyToThread(id, t, event);
  }
  if (event.type === "message.created") {
    state.typing.get(id)?.delete(data.senderId);
    emit(`typing:${id}`);
    if (data.senderId !== state.me.id) announceMessage(id, data);
  }
  if (event.type === "conversation.deleted") {
    leftConversation(id, "deleted");
  }
}

function updateListState(conversation, { type, data }) {
  const id = conversation.id;
  switch (type) {
    case "message.created":
      conversation.lastMessage = data;
      conversation.rank = ++rankCounter;
      if (data.senderId !== state.me.id) {
        conversation.unreadCount++;
        if (mentionsMe(data, conversation) && !state.blocks.has(data.senderId)) conversation.mentionCount = (conversation.mentionCount ?? 0) + 1;
        if (conversation.kind === "direct" && !conversation.peerId) conversation.peerId = data.senderId;
      }
      break;
    case "message.updated":
      if (conversation.lastMessage?.id === data.id) {
        if (data.body !== undefined) conversation.lastMessage.body = data.body;
        conversation.lastMessage.editedAt = data.editedAt;
      }
      break;
    case "message.deleted":
      if (conversation.lastMessage?.id === data.id) { conversation.lastMessage.deleted = true; delete conversation.lastMessage.body; }
      break;
    case "conversation.updated":
      if (conversation.kind === "group") {
        conversation.title = data.title ?? conversation.title;
        if (data.description) conversation.description = data.description; else delete conversation.description;
      }
      // A group's icon comes and goes with this event; a direct conversation's is the peer's avatar.
      if (conversation.kind === "group" || data.iconUrl) {
        if (data.iconUrl) conversation.iconUrl = data.iconUrl; else delete conversation.iconUrl;
      }
      if (data.memberCount) conversation.memberCount = data.memberCount;
      // The shared theme travels with every update; none means it was removed.
      if (data.theme) conversation.theme = data.theme; else delete conversation.theme;
      break;
    case "member.added":
      if (!state.members.get(id)?.has(data.user.id)) conversation.memberCount++;
      break;
    case "member.removed":
      if (state.members.get(id)?.has(data.userId) ?? true) conversation.memberCount = Math.max(1, conversation.memberCount - 1);
      break;
    case "member.updated":
      if (data.userId === state.me.id) conversation.myRole = data.role;
      break;
    case "profile.updated":
      // A direct conversation is named and pictured after the peer.
      if (conversation.kind === "direct" && data.user.id !== state.me.id) {
        conversation.title = data.user.displayName;
        if (data.user.avatarUrl) conversation.iconUrl = data.user.avatarUrl; else delete conversation.iconUrl;
      }
      break;
    case "receipt.updated":
      if (data.userId === state.me.id) {
        if (data.lastReadSeq >= (conversation.lastMessage?.seq ?? 0)) { conversation.unreadCount = 0; conversation.mentionCount = 0; }
        else scheduleRefresh(id);
      }
      break;
  }
  emit(`conversation:${id}`);
  emit("list");
}

function updateMembers(id, members, { type, data }) {
  switch (type) {
    case "member.added":
      rememberUser(data.user);
      members.set(data.user.id, { user: data.user, role: data.role, joinedAt: data.joinedAt, lastReadSeq: 0 });
      break;
    case "member.removed":
      members.delete(data.userId);
      break;
    case "profile.updated": {
      const member = members.get(data.user.id);
      if (member) member.user = { ...member.user, ...data.user };
      break;
    }
    case "member.updated": {
      const member = members.get(data.userId);
      if (member) member.role = data.role;
      // Handing ownership on also makes the former owner an admin: reload to be exact.
      if (data.role === "owner") loadMembers(id).catch(() => {});
      break;
    }
    case "receipt.updated": {
      const member = members.get(data.userId);
      if (member) member.lastReadSeq = Math.max(member.lastReadSeq, data.lastReadSeq);
      break;
    }
    default:
      return;
  }
  emit(`members:${id}`);
}

function onUserEvent({ type, data, ts }) {
  switch (type) {
    case "conversation.joined":
      refreshConversation(data.conversation.id, { bump: true }).then((conversation) => {
        if (conversation && data.conversation.createdBy !== state.me.id) announce(`You were added to ${conversation.title}.`);
      }, () => {});
      break;
    case "conversation.left":
      leftConversation(data.conversationId, data.reason);
      break;
    case "contact.added":
    case "contact.updated":
      state.contacts.add(data.user.id);
      rememberUser(data.user);
      emit("contacts");
      break;
    case "contact.removed":
      state.contacts.delete(data.userId);
      emit("contacts");
      break;
    case "user.updated":
      if (data.id === state.me.id) { state.me = data; emit("me"); }
      break;
    case "session.revoked":
      if (data.sessionId === session.current()?.sessionId) session.end(data.reason);
      else emit("sessions");
      break;
    case "preferences.updated":
      receivePreferences(data);
      break;
    case "conversation.preferences.updated":
      receiveConversationPrefs(data.conversationId, data.preferences);
      break;
    case "notification.created":
    case "notifications.read":
    case "notifications.removed":
      onInboxEvent(type, data, ts);
      break;
  }
}

// ——— The notification inbox ———
// Its unread count is the server's, carried by every event (an absolute number, so a tab never
// counts twice, whatever it did itself); a notification is listed once (by id). While a page is
// being fetched, events make it fetch again, so that it never overwrites something newer.
let inboxVersion = 0;

// (createdAt has whole seconds: within one, the order they came in — the server's — stays.)
const newestFirst = (a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);

export async function loadNotifications(attempt = 0) {
  const version = inboxVersion;
  const page = await api.listNotifications({ limit: 30 });
  if (version !== inboxVersion && attempt < 2) return loadNotifications(attempt + 1);
  const fresh = new Set(page.items.map((n) => n.id));
  const newer = state.inbox.items.filter((n) => !fresh.has(n.id) && page.items.length && n.createdAt > page.items[0].createdAt);
  state.inbox = { items: [...newer, ...page.items].sort(newestFirst), unreadCount: page.unreadCount, nextCursor: page.nextCursor ?? null, loaded: true };
  emit("inbox");
}

export async function loadMoreNotifications() {
  const inbox = state.inbox;
  if (!inbox.nextCursor || inbox.loadingMore) return;
  inbox.loadingMore = true;
  emit("inbox");
  try {
    const page = await api.listNotifications({ limit: 30, cursor: inbox.nextCursor });
    const known = new Set(inbox.items.map((n) => n.id));
    inbox.items = [...inbox.items, ...page.items.filter((n) => !known.has(n.id))].sort(newestFirst);
    inbox.nextCursor = page.nextCursor ?? null;
  } finally {
    inbox.loadingMore = false;
    emit("inbox");
  }
}

function onInboxEvent(type, data, ts) {
  inboxVersion++;
  const inbox = state.inbox;
  inbox.unreadCount = data.unreadCount;
  if (type === "notification.created") {
    const n = data.notification;
    if (!inbox.items.some((item) => item.id === n.id)) inbox.items = [n, ...inbox.items].sort(newestFirst);
    // A mention made by an edit changes the conversation's count without a message event.
    if (n.kind === "mention") scheduleRefresh(n.conversationId);
    // Not for events replayed after a reconnect: only what happens now is worth interrupting for.
    if (realtime?.live) alert(n);
  } else {
    const ids = new Set(data.ids);
    const affected = new Set();
    let unknown = false;
    for (const id of ids) {
      const item = inbox.items.find((n) => n.id === id);
      if (!item) unknown = true;
      else if (item.kind === "mention" && !item.readAt) affected.add(item.conversationId);
    }
    if (type === "notifications.read") for (const item of inbox.items) { if (ids.has(item.id)) item.readAt ??= ts; }
    else inbox.items = inbox.items.filter((n) => !ids.has(n.id));
    // Mention counts per conversation: those the ids touch, or, for ids not loaded here, every
    // conversation that shows some.
    if (unknown) for (const c of state.conversations.values()) if (c.mentionCount) affected.add(c.id);
    for (const id of affected) scheduleRefresh(id);
  }
  emit("inbox");
}

/** Marks notifications read (opened from the inbox). The count follows from the server. */
export async function readNotifications(ids) {
  const version = inboxVersion;
  const now = new Date().toISOString();
  let changed = 0;
  for (const item of state.inbox.items) if (ids.includes(item.id) && !item.readAt) { item.readAt = now; changed++; }
  if (!changed) return;
  state.inbox.unreadCount = Math.max(0, state.inbox.unreadCount - changed);
  emit("inbox");
  const { unreadCount } = await api.readNotifications({ ids });
  if (version === inboxVersion) { state.inbox.unreadCount = unreadCount; emit("inbox"); }
}

/**
 * "Mark all read": everything up to the newest notification shown (the server counts `before`'s
 * whole second in), or up to now.
 */
export async function readAllNotifications() {
  const version = inboxVersion;
  const newest = state.inbox.items[0]?.createdAt;
  const before = newest ?? new Date().toISOString();
  const now = new Date().toISOString();
  for (const item of state.inbox.items) item.readAt ??= now;
  state.inbox.unreadCount = 0;
  emit("inbox");
  const { unreadCount } = await api.readNotifications({ before });
  if (version === inboxVersion) { state.inbox.unreadCount = unreadCount; emit("inbox"); }
}

// ——— A conversation's own settings (ours) and shared theme ———
// Ours (level, mute, own theme) change by a PATCH, whose answer applies here at once; every tab
// and device of ours, this one too, then receives `conversation.preferences.updated` with all of
// them as they are now, in the user's stream — so they follow across devices as the global
// preferences do. A conversation's settings are loaded when first needed; from then on the
// events keep them current.
function receiveConversationPrefs(id, prefs) {
  state.conversationPrefs.set(id, prefs);
  emit(`settings:${id}`);
}

export async function loadConversationPrefs(id) {
  const prefs = await api.getConversationPreferences(id);
  receiveConversationPrefs(id, prefs);
  return prefs;
}

/** PATCH …/preferences: {notifications}, {mutedUntil}, {theme} or {resetTheme: true}. */
export async function updateConversationPrefs(id, change) {
  const prefs = await api.updateConversationPreferences(id, change);
  receiveConversationPrefs(id, prefs);
  return prefs;
}

/** Sets (a ChatTheme) or removes (null) the look a conversation shows all its members. */
export async function setConversationTheme(id, theme) {
  const conversation = theme ? await api.setConversationTheme(id, theme) : await api.removeConversationTheme(id);
  putConversation(conversation);
  emit("list");
}

/** The look to show: our own choice for this conversation, else its shared theme, else none. */
export function effectiveTheme(id) {
  return state.conversationPrefs.get(id)?.theme ?? state.conversations.get(id)?.theme ?? null;
}

/** Whether a conversation's settings keep it quiet now (muted, or level `none`). */
export function isMuted(prefs) {
  return Boolean(prefs && ((prefs.mutedUntil && new Date(prefs.mutedUntil) > new Date()) || prefs.notifications === "none"));
}

function leftConversation(id, reason) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  dropConversation(id);
  lastLeft = { id, reason, title: conversation.title };
  emit("list");
  emit("left");
}
/** The last conversation we left or lost (the conversation view explains it when it was open). */
export let lastLeft = null;

const refreshTimers = new Map();
function scheduleRefresh(id) {
  if (refreshTimers.has(id)) return;
  refreshTimers.set(id, setTimeout(() => { refreshTimers.delete(id); refreshConversation(id).catch(() => {}); }, 300));
}

function onFrame(frame) {
  switch (frame.type) {
    case "typing": {
      if (frame.userId === state.me.id) return;
      if (!state.typing.has(frame.conversationId)) state.typing.set(frame.conversationId, new Map());
      state.typing.get(frame.conversationId).set(frame.userId, Date.now() + frame.expiresIn * 1000);
      emit(`typing:${frame.conversationId}`);
      setTimeout(() => emit(`typing:${frame.conversationId}`), frame.expiresIn * 1000 + 50);
      break;
    }
    case "presence.changed":
      state.presence.set(frame.userId, { status: frame.status, lastSeenAt: frame.lastSeenAt });
      emit("presence");
      break;
  }
}

/** The server cannot replay a stream: refetch what it describes over REST. */
async function onResync({ stream }) {
  const [kind, id] = stream.split(":");
  if (kind === "user") {
    await Promise.all([loadConversations(), loadNotifications(), api.getMe().then((me) => { state.me = me; emit("me"); }), api.getPreferences().then(receivePreferences),
      ...[...state.conversationPrefs.keys()].map((id) => loadConversationPrefs(id))]).catch(() => {});
    return;
  }
  const conversation = await refreshConversation(id).catch(() => null);
  if (!conversation) return;
  if (state.threads.get(id)?.loaded) {
    state.threads.delete(id);
    await openThread(id).catch(() => {});
  }
  if (state.members.has(id)) await loadMembers(id).catch(() => {});
}

let batchedAnnouncements = [];
function announceMessage(id, message) {
  if (!preference("accessibility", "screenReaderAnnouncements")) return;
  batchedAnnouncements.push({ id, message });
  if (batchedAnnouncements.length > 1) return;
  setTimeout(() => {
    const batch = batchedAnnouncements;
    batchedAnnouncements = [];
    if (batch.length > 2) return announce(`${batch.length} new messages.`);
    announce(batch.map(({ id, message }) => {
      const where = id === state.openId ? "" : ` in ${state.conversations.get(id)?.title ?? "a conversation"}`;
      return `${userName(message.senderId)}${where}: ${message.deleted ? "deleted message" : preview(message).slice(0, 200)}`;
    }).join(". "));
  }, 300);
}

// ——— Start and stop ———

/** Loads what the first screen needs, then connects the socket. */
export async function start() {
  const [me, prefs] = await Promise.all([api.getMe(), api.getPreferences()]);
  state.me = me;
  emit("me");
  receivePreferences(prefs);
  migrateLocalPreferences().catch(() => {});
  const [positions] = await Promise.all([loadConversations(), loadNotifications().catch(() => {})]);
  api.listContacts().then(({ items }) => { for (const c of items) { state.contacts.add(c.user.id); rememberUser(c.user); } emit("contacts"); }, () => {});
  api.listBlocks().then(({ items }) => { for (const b of items) state.blocks.add(b.user.id); emit("contacts"); }, () => {});
  connect(positions);
}

function connect(positions) {
  realtime = new Realtime(state.me.id);
  const hadUserCursor = `user:${state.me.id}` in realtime.cursors;
  let firstResume = true;
  realtime.addEventListener("state", ({ detail }) => { state.connection = detail; emit("connection"); });
  realtime.addEventListener("event", ({ detail }) => onEvent(detail));
  realtime.addEventListener("frame", ({ detail }) => onFrame(detail));
  realtime.addEventListener("resync", ({ detail }) => onResync(detail));
  realtime.addEventListener("revoked", () => session.end("revoked"));
  realtime.addEventListener("resumed", () => {
    // First connection of this browser: the user stream had no cursor, so anything between our
    // REST snapshot and `hello` (a conversation joined in that instant) is fetched again.
    if (firstResume && !hadUserCursor) { loadConversations().catch(() => {}); loadNotifications().catch(() => {}); }
    firstResume = false;
    for (const [id, t] of state.threads) {
      if (t.reconcileFrom !== undefined && realtime.cursors[`conversation:${id}`] > t.reconcileFrom) fetchPage(id, {}).catch(() => {});
      t.reconcileFrom = undefined;
    }
    retryFailedSends();
    realtime.send({ type: "presence", status: document.visibilityState === "visible" ? "online" : "away" });
  });
  document.addEventListener("visibilitychange", onVisibility);
  stopWatchingTokens = session.onChange(onTokens);
  startAlerts();
  realtime.start(positions);
}

function onVisibility() {
  realtime?.send({ type: "presence", status: document.visibilityState === "visible" ? "online" : "away" });
}
// A refreshed token (here or in another tab) goes to the socket before the old one expires.
function onTokens(what) { if (what === "tokens") realtime?.reauthenticate(); }
let stopWatchingTokens = () => {};

export function stop() {
  realtime?.stop();
  realtime = null;
  stopWatchingTokens();
  document.removeEventListener("visibilitychange", onVisibility);
  stopAlerts();
  for (const key of ["conversations", "threads", "members", "users", "presence", "typing", "conversationPrefs"]) state[key].clear();
  state.contacts.clear();
  state.blocks.clear();
  state.inbox = { items: [], unreadCount: 0, nextCursor: null, loaded: false };
  resetPreferences();
  state.me = state.prefs = state.openId = null;
}
