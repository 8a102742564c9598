// Parley's web page: the entry point. It routes — on the path for the pages the server mails links
// to (/reset-password, /verify-email), on the hash inside the app (#/c/<id>, #/settings…) so that
// any URL survives a reload — and wires the session, the store and the views together.
//
//   lib/api.js          REST client (fetch, problem+json errors, one retry after a refresh)
//   lib/session.js      tokens in localStorage, refreshed before expiry, shared by tabs
//   lib/realtime.js     the WebSocket: auth frame, cursors, resume, backoff
//   lib/store.js        state, REST snapshots + events, actions
//   lib/preferences.js  settings described as data, kept on the server, cached here
//   lib/colors.js       accent colours and conversation themes, at AA contrast
//   lib/alerts.js       system notifications and sounds, from one tab
//   lib/push.js         Web Push: the service worker (/sw.js) and this browser's subscription
//   lib/dom.js          DOM helpers (text only, never innerHTML)
//   views/*.js          sign-in screens, sidebar, inbox, conversation, group dialogs, settings
import * as session from "./lib/session.js";
import * as store from "./lib/store.js";
import * as api from "./lib/api.js";
import * as push from "./lib/push.js";
import { applyAppearance } from "./lib/preferences.js";
import { h, toast, setChildren } from "./lib/dom.js";
import { authScreen, resetScreen, verifyScreen, endedMessage } from "./views/auth.js";
import { Sidebar } from "./views/sidebar.js";
import { Inbox } from "./views/inbox.js";
import { ConversationView, emptyPane } from "./views/conversation.js";
import { SettingsView } from "./views/settings.js";

const app = document.getElementById("app");
const nav = document.getElementById("app-nav");
const connection = document.getElementById("connection");
const reconnect = h("button", { type: "button", class: "button small", hidden: true, on: { click: () => store.realtime?.connectNow() } }, "Reconnect");
connection.after(reconnect);

let chat = null;   // the signed-in layout: {sidebar, inbox, main, view, key}
let notice = null; // why the last session ended, for the sign-in screen
let firstRoute = true;

applyAppearance();

function route() {
  if (location.pathname === "/reset-password") return standalone(resetScreen());
  if (location.pathname === "/verify-email") return standalone(verifyScreen());
  if (!session.current()) return showAuth();
  showChat();
}

const hashParts = () => location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);

function mainElement(className, ...children) {
  return h("main", { id: "main", class: className, tabIndex: -1 }, ...children);
}

function standalone(card) {
  leaveChat();
  setChildren(app, mainElement("auth-screen", card));
  app.className = "app app-auth";
  markFirstRender();
}

function showAuth() {
  leaveChat();
  const [screen] = hashParts();
  const card = authScreen(screen, { notice, onSignedIn });
  setChildren(app, mainElement("auth-screen", card));
  app.className = "app app-auth";
  if (!firstRoute || notice) {
    const heading = card.querySelector("h1");
    heading.tabIndex = -1;
    heading.focus();
  }
  firstRoute = false;
  markFirstRender();
}

function onSignedIn() {
  notice = null;
  if (location.hash === "#/") route();
  else location.hash = "#/";
}

async function showChat() {
  if (!chat) {
    const main = mainElement("pane", h("p", { class: "loading" }, "Loading…"));
    chat = { main, sidebar: null, view: null, key: null };
    setChildren(app, main);
    app.className = "app app-chat";
    nav.hidden = false;
    connection.hidden = false;
    const mine = chat;
    try {
      await store.start();
    } catch (error) {
      if (chat !== mine) return; // signed out meanwhile
      if (error.status === 401) return; // the session ended; the "ended" handler shows sign-in
      setChildren(main, h("div", { class: "empty-pane" },
        h("h1", {}, "Cannot reach Parley"), h("p", {}, error.message),
        h("button", { type: "button", class: "button primary", on: { click: () => { leaveChat(); route(); } } }, "Try again")));
      return;
    }
    if (chat !== mine) return;
    push.registerWorker();
    chat.sidebar = new Sidebar();
    app.prepend(chat.sidebar.el);
    chat.inbox = new Inbox();
    nav.prepend(chat.inbox.button);
    document.querySelector(".app-header").append(chat.inbox.panel);
    markFirstRender();
  }
  if (chat.sidebar) showRoute();
}

/** Puts the view for the current hash in the main pane. */
function showRoute() {
  const [kind, id, sub, seq] = hashParts();
  const key = kind === "c" && id ? `c:${id}` : kind === "settings" ? "settings" : "list";
  const jump = kind === "c" && sub === "m" ? Number(seq) : undefined;
  if (key === chat.key) {
    if (jump) chat.view.jumpTo(jump);
    return;
  }
  chat.view?.destroy?.();
  chat.key = key;
  store.state.openId = key.startsWith("c:") ? id : null;
  store.emit("open");
  if (key.startsWith("c:")) {
    if (!store.state.conversations.has(id)) {
      toast("That conversation is not in your list.", "error");
      location.hash = "#/";
      return;
    }
    chat.view = new ConversationView(id, { jumpToSeq: jump });
  } else if (key === "settings") {
    chat.view = new SettingsView();
  } else {
    chat.view = { el: emptyPane() };
  }
  setChildren(chat.main, chat.view.el);
  app.dataset.pane = key === "list" ? "list" : "detail";
  document.getElementById("nav-settings").setAttribute("aria-current", key === "settings" ? "page" : "false");
  // Move the focus to what just opened, as a page load would: the composer of a conversation on
  // wide screens, the heading otherwise (narrow screens: the list or the opened pane).
  const wide = matchMedia("(min-width: 701px)").matches;
  if (key.startsWith("c:") && wide) {
    chat.view.focusComposer();
  } else if (key === "list" && !wide) {
    const heading = chat.sidebar.el.querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
  } else if (!firstRoute) {
    chat.main.querySelector("h1")?.focus();
  }
  firstRoute = false;
}

function leaveChat() {
  if (!chat) return;
  chat.view?.destroy?.();
  chat.sidebar?.destroy();
  chat.inbox?.destroy();
  chat = null;
  store.stop();
  nav.hidden = true;
  connection.hidden = true;
  reconnect.hidden = true;
  delete app.dataset.pane;
  document.title = "Parley";
}

// The session ended: signed out here or in another tab, revoked from another device (a
// `session.revoked` event, a 4501 close) or a refresh the server refused.
session.onChange((what, reason) => {
  if (what === "ended") {
    push.unsubscribeHere().catch(() => {}); // a signed-out browser shows nobody's pushes
    notice = endedMessage(reason);
    leaveChat();
    if (location.pathname !== "/") history.replaceState(null, "", "/#/signin");
    else if (location.hash !== "#/signin") location.hash = "#/signin";
    route();
  } else if (what === "switched") {
    location.reload(); // another tab signed in as someone else: start over as them
  }
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await push.disablePush().catch(() => {}); // while the tokens still work: the server stops pushing here
  await api.logout().catch(() => {}); // revoked on the server if we can reach it; forgotten here anyway
  session.end("logout");
});

const STATE_TEXT = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline" };
store.on("connection", () => {
  const state = store.state.connection;
  connection.dataset.state = state;
  connection.querySelector(".connection-text").textContent = STATE_TEXT[state];
  reconnect.hidden = state !== "offline" || !chat;
  window.parleyTest?.states.push(state);
});

// Unread messages in the tab's title.
store.on("list", () => {
  const unread = [...store.state.conversations.values()].reduce((sum, c) => sum + (c.unreadCount || 0), 0);
  document.title = unread ? `(${unread}) Parley` : "Parley";
});

addEventListener("hashchange", route);

// A push notification's link (PushPayload.url), /?conversation=<id>: the conversation's own
// address is #/c/<id>. sw.js opens the link in a new tab, or posts it to a tab already open.
const linkedConversation = (url) => new URL(url, location.href).searchParams.get("conversation");
if (linkedConversation(location.href)) {
  const search = new URLSearchParams(location.search);
  const id = search.get("conversation");
  search.delete("conversation");
  history.replaceState(null, "", `${location.pathname}${search.toString() ? `?${search}` : ""}#/c/${encodeURIComponent(id)}`);
}
navigator.serviceWorker?.addEventListener("message", ({ data }) => {
  const id = data?.type === "parley.open" && linkedConversation(data.url);
  if (id) location.hash = `#/c/${encodeURIComponent(id)}`;
});

function markFirstRender() {
  if (!performance.getEntriesByName("parley:first-render").length) performance.mark("parley:first-render");
}

// With ?test in the URL (the browser tests), a handle on the internals: the connection states
// seen, and a way to drop the socket as a network failure would.
if (new URLSearchParams(location.search).has("test")) {
  window.parleyTest = { states: [], store, drop: (holdMs) => store.realtime?.simulateDrop(holdMs) };
}

route();
