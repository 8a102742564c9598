// The REST client: one fetch wrapper and one function per operation of openapi.yaml that the page
// uses. It speaks only the public API under /api/v1, like any other client would.
import * as session from "./session.js";

// The server to talk to: the one named by <meta name="parley-api"> in index.html, else the page's
// own origin. A meta tag rather than a query parameter, so that a link cannot point the page (and
// the password typed into it) at another server.
const configured = document.querySelector('meta[name="parley-api"]')?.content.trim();
export const apiOrigin = configured ? new URL(configured).origin : location.origin;
export const realtimeUrl = `${apiOrigin.replace(/^http/, "ws")}/api/v1/realtime`;

/**
 * A failed call. `status` 0 means the network failed (no answer: offline, server down); otherwise
 * the fields of the problem+json body: `code` (stable), `title`, `detail`, `errors` (per field)
 * and `retryAfter` (seconds, from 429 and 503).
 */
export class ApiError extends Error {
  constructor({ status = 0, code = "network", title, detail, errors, retryAfter } = {}) {
    super(detail || title || (status ? `The server answered ${status}.` : "No connection to the server."));
    Object.assign(this, { status, code, title, detail, errors, retryAfter });
  }
  get network() { return this.status === 0; }
  /** Worth retrying the same request: no answer, or the server asked to wait. */
  get transient() { return this.status === 0 || this.status === 429 || this.status === 503 || this.status >= 500; }
}

/** Turns a non-2xx answer into an ApiError. */
export async function problemFrom(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON: keep the status */ }
  const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  const error = new ApiError({ status: response.status, code: body.code ?? `http_${response.status}`, title: body.title, detail: body.detail, errors: body.errors, retryAfter });
  if (retryAfter && (response.status === 429 || response.status === 503)) {
    error.message = `${body.detail ?? "Too many requests."} Try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`;
  }
  return error;
}

/**
 * A request to `/api/v1` + path, without authentication logic. `body` goes as JSON; `file` (a
 * Blob) as the raw body with its own type (image uploads).
 */
export async function send(method, path, { body, file, token, signal } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (file) headers["Content-Type"] = file.type || "application/octet-stream";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`${apiOrigin}/api/v1${path}`, { method, headers, body: file ?? (body === undefined ? undefined : JSON.stringify(body)), signal });
  } catch (cause) {
    if (cause.name === "AbortError") throw cause;
    throw new ApiError();
  }
  if (!response.ok) throw await problemFrom(response);
  // 204, and 202 of a reset request, have no body.
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * An authenticated request. The access token is refreshed before it expires (session.js); a 401
 * anyway (a token revoked or expired in between) triggers one refresh and one retry. A second 401,
 * or a refresh the server refuses, ends the session: the app then shows the sign-in screen.
 */
export async function call(method, path, options = {}) {
  const token = await session.accessToken();
  try {
    return await send(method, path, { ...options, token });
  } catch (error) {
    if (error.status !== 401) throw error;
    await session.refresh(token);
    try {
      return await send(method, path, { ...options, token: session.current().accessToken });
    } catch (again) {
      if (again.status === 401) session.end("expired");
      throw again;
    }
  }
}

const q = (params) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : "";
};
const id = encodeURIComponent;

// Accounts and sessions.
export const register = (body) => send("POST", "/auth/register", { body });
export const login = (body) => send("POST", "/auth/login", { body });
export const logout = () => call("POST", "/auth/logout");
export const listSessions = () => call("GET", "/auth/sessions");
export const revokeSession = (sessionId) => call("DELETE", `/auth/sessions/${id(sessionId)}`);
export const changePassword = (currentPassword, newPassword) => call("POST", "/auth/password", { body: { currentPassword, newPassword } });
export const requestPasswordReset = (email) => send("POST", "/auth/password-reset", { body: { email } });
export const confirmPasswordReset = (token, newPassword) => send("POST", "/auth/password-reset/confirm", { body: { token, newPassword } });
export const verifyEmail = (token) => send("POST", "/auth/verify-email", { body: { token } });
export const resendVerificationEmail = () => call("POST", "/auth/verify-email/resend");

// Me and my preferences.
export const getMe = () => call("GET", "/me");
export const updateMe = (body) => call("PATCH", "/me", { body });
export const changeEmail = (newEmail, password) => call("POST", "/me/email", { body: { newEmail, password } });
export const deleteMe = (password, deleteMessages) => call("DELETE", "/me", { body: { password, deleteMessages } });
export const requestExport = () => call("POST", "/me/export");
export const getExport = () => call("GET", "/me/export");
export const getPreferences = () => call("GET", "/me/preferences");
export const updatePreferences = (body) => call("PATCH", "/me/preferences", { body });

// People.
export const searchUsers = (text, limit = 10) => call("GET", `/users${q({ q: text, limit })}`);
export const getUser = (userId) => call("GET", `/users/${id(userId)}`);
export const listContacts = () => call("GET", "/contacts");
export const addContact = (userId) => call("PUT", `/contacts/${id(userId)}`, { body: {} });
export const removeContact = (userId) => call("DELETE", `/contacts/${id(userId)}`);
export const listBlocks = () => call("GET", "/blocks");
export const block = (userId) => call("PUT", `/blocks/${id(userId)}`);
export const unblock = (userId) => call("DELETE", `/blocks/${id(userId)}`);

// Conversations and groups.
export const listConversations = (cursor) => call("GET", `/conversations${q({ limit: 100, cursor })}`);
export const getConversation = (conversationId) => call("GET", `/conversations/${id(conversationId)}`);
export const openDirect = (userId) => call("POST", "/conversations/direct", { body: { userId } });
export const createGroup = (body) => call("POST", "/groups", { body });
export const updateGroup = (conversationId, body) => call("PATCH", `/groups/${id(conversationId)}`, { body });
export const deleteGroup = (conversationId) => call("DELETE", `/groups/${id(conversationId)}`);
export const listMembers = (conversationId) => call("GET", `/conversations/${id(conversationId)}/members`);
export const addMembers = (conversationId, userIds) => call("POST", `/groups/${id(conversationId)}/members`, { body: { userIds } });
export const removeMember = (conversationId, userId) => call("DELETE", `/groups/${id(conversationId)}/members/${id(userId)}`);
export const setRole = (conversationId, userId, role) => call("PATCH", `/groups/${id(conversationId)}/members/${id(userId)}`, { body: { role } });

// Images: upload one, then use its id once — in a message, as the avatar or as a group icon.
// The links the API hands out (url, thumbnailUrl, avatarUrl, iconUrl) are signed and relative to
// the server: mediaUrl() makes them usable in <img src> from wherever this page is served.
export const uploadImage = (file) => call("POST", "/uploads", { file });
export const setAvatar = (uploadId) => call("PUT", "/me/avatar", { body: { uploadId } });
export const removeAvatar = () => call("DELETE", "/me/avatar");
export const setGroupIcon = (conversationId, uploadId) => call("PUT", `/groups/${id(conversationId)}/icon`, { body: { uploadId } });
export const removeGroupIcon = (conversationId) => call("DELETE", `/groups/${id(conversationId)}/icon`);
export const mediaUrl = (url) => (url && url.startsWith("/") ? `${apiOrigin}${url}` : url);
/** The image types the server takes (it checks the file's own bytes too), and its default size limit. */
export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

// Messages.
export const listMessages = (conversationId, { before, after, limit = 50 } = {}) =>
  call("GET", `/conversations/${id(conversationId)}/messages${q({ before, after, limit })}`);
export const sendMessage = (conversationId, body) => call("POST", `/conversations/${id(conversationId)}/messages`, { body });
export const editMessage = (messageId, body) => call("PATCH", `/messages/${id(messageId)}`, { body: { body } });
export const deleteMessage = (messageId) => call("DELETE", `/messages/${id(messageId)}`);
export const addReaction = (messageId, emoji) => call("PUT", `/messages/${id(messageId)}/reactions/${id(emoji)}`);
export const removeReaction = (messageId, emoji) => call("DELETE", `/messages/${id(messageId)}/reactions/${id(emoji)}`);
export const markRead = (conversationId, seq) => call("POST", `/conversations/${id(conversationId)}/read`, { body: { seq } });
export const searchMessages = (text, conversationId) => call("GET", `/search/messages${q({ q: text, conversationId, limit: 30 })}`);

// Notifications: the inbox, and each conversation's own settings and shared theme.
export const listNotifications = ({ cursor, limit = 30, unread } = {}) => call("GET", `/notifications${q({ limit, cursor, unread })}`);
export const readNotifications = (body) => call("POST", "/notifications/read", { body });
export const getConversationPreferences = (conversationId) => call("GET", `/conversations/${id(conversationId)}/preferences`);
export const updateConversationPreferences = (conversationId, body) => call("PATCH", `/conversations/${id(conversationId)}/preferences`, { body });
export const setConversationTheme = (conversationId, theme) => call("PUT", `/conversations/${id(conversationId)}/theme`, { body: theme });
export const removeConversationTheme = (conversationId) => call("DELETE", `/conversations/${id(conversationId)}/theme`);

// Web Push: this browser's subscription (lib/push.js). The body of a subscription is what
// PushSubscription.toJSON() gives: {endpoint, keys: {p256dh, auth}}.
export const getVapidPublicKey = () => call("GET", "/push/vapid-public-key");
export const subscribeToPush = ({ endpoint, keys }) => call("POST", "/push/subscriptions", { body: { endpoint, keys } });
export const unsubscribeFromPush = (subscriptionId) => call("DELETE", `/push/subscriptions/${id(subscriptionId)}`);

