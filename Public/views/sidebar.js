// The sidebar: the conversation list (by activity, with unread counts, an "@" where someone
// mentioned us, last message, avatars and presence), and one search box that finds people (to open a direct chat) and messages.
import * as api from "../lib/api.js";
import { state, on, sortedConversations, peerOf, rememberUser, refreshConversation, userName, preview as messagePreview } from "../lib/store.js";
import { h, avatar, shortTime, snippet, preserveFocus, debounce, toast, setChildren } from "../lib/dom.js";
import { openNewGroupDialog } from "./group.js";

export class Sidebar {
  constructor() {
    this.list = h("ul", { class: "conversation-list", "aria-labelledby": "chats-heading" });
    this.search = h("input", { type: "search", id: "global-search", name: "q", autocomplete: "off", placeholder: "Search people and messages", "aria-label": "Search people and messages", "aria-controls": "search-results" });
    this.results = h("div", { id: "search-results", class: "search-results", hidden: true });
    this.el = h("nav", { class: "sidebar", "aria-label": "Conversations" },
      h("div", { class: "sidebar-top" },
        h("h2", { id: "chats-heading" }, "Chats"),
        h("button", { type: "button", class: "button small", on: { click: () => openNewGroupDialog() } }, "New group")),
      h("form", { class: "search-form", role: "search", on: { submit: (e) => { e.preventDefault(); this.runSearch(); } } },
        this.search),
      this.results,
      this.list);
    this.search.addEventListener("input", debounce(() => this.runSearch(), 250));
    this.search.addEventListener("keydown", (e) => { if (e.key === "Escape" && this.search.value) { this.search.value = ""; this.runSearch(); } });
    const render = () => this.render();
    this.unsubscribe = [on("list", render), on("presence", render), on("users", render), on("me", render), on("open", render)];
    this.render();
  }

  destroy() { this.unsubscribe.forEach((off) => off()); }

  /**
   * Renders the list, keyed: a row is rebuilt only when what it shows changed, and rows are moved
   * rather than recreated, so a click or the focus is not lost when another message arrives.
   */
  render() {
    preserveFocus(this.list, () => {
      const conversations = sortedConversations();
      if (!conversations.length) {
        this.rows = new Map();
        setChildren(this.list, h("li", { class: "empty" }, "No conversations yet. Search for someone to start one, or create a group."));
        return;
      }
      const rows = new Map();
      conversations.forEach((c, index) => {
        const key = this.rowKey(c);
        let row = this.rows?.get(c.id);
        if (!row || row.key !== key) {
          const li = this.item(c);
          if (row) row.li.replaceWith(li);
          row = { key, li };
        }
        rows.set(c.id, row);
        const there = this.list.children[index];
        if (there !== row.li) this.list.insertBefore(row.li, there ?? null);
      });
      for (const child of [...this.list.children]) if (![...rows.values()].some((row) => row.li === child)) child.remove();
      this.rows = rows;
    });
  }

  rowKey(c) {
    const peer = c.kind === "direct" ? c.peerId : null;
    const last = c.lastMessage;
    return JSON.stringify([c.title, c.iconUrl, c.unreadCount, c.mentionCount, c.id === state.openId, peer, peer && state.users.get(peer)?.avatarUrl,
      peer && state.presence.get(peer)?.status, last?.id, last?.body, last?.deleted, last?.attachments?.length,
      last && last.senderId !== state.me.id && c.kind === "group" ? userName(last.senderId) : null]);
  }

  item(conversation) {
    const peer = conversation.kind === "direct" ? conversation.peerId : null;
    if (conversation.kind === "direct" && !peer) peerOf(conversation).catch(() => {});
    const peerUser = peer && state.users.get(peer);
    const presence = peer ? state.presence.get(peer)?.status : undefined;
    const last = conversation.lastMessage;
    const who = !last ? "" : last.senderId === state.me.id ? "You: " : conversation.kind === "group" ? `${userName(last.senderId)}: ` : "";
    const preview = !last ? (conversation.kind === "group" ? "New group" : "No messages yet") : `${who}${messagePreview(last)}`;
    const unread = conversation.unreadCount;
    const mentions = conversation.mentionCount;
    return h("li", {},
      h("a", { class: "conversation-item", href: `#/c/${conversation.id}`, "aria-current": conversation.id === state.openId ? "page" : undefined, data: { key: `conv-${conversation.id}`, conversationId: conversation.id } },
        avatar({ id: peer ?? conversation.id, name: conversation.title, url: conversation.iconUrl ?? peerUser?.avatarUrl, presence }),
        h("span", { class: "conversation-text" },
          h("span", { class: "conversation-title" }, conversation.title,
            presence ? h("span", { class: "visually-hidden" }, ` (${presence})`) : null),
          h("span", { class: "conversation-preview" }, preview)),
        h("span", { class: "conversation-meta" },
          h("time", { datetime: last?.createdAt ?? conversation.createdAt }, shortTime(last?.createdAt ?? conversation.createdAt)),
          h("span", { class: "badges" },
            mentions ? h("span", { class: "badge mention-badge", title: mentions === 1 ? "You were mentioned" : `You were mentioned ${mentions} times` },
              "@", h("span", { class: "visually-hidden" }, mentions === 1 ? " 1 mention," : ` ${mentions} mentions,`)) : null,
            unread ? h("span", { class: "badge unread-badge" }, String(unread), h("span", { class: "visually-hidden" }, unread === 1 ? " unread message" : " unread messages")) : null))));
  }

  async runSearch() {
    const text = this.search.value.trim();
    const token = (this.searchToken = Symbol());
    if (!text) { this.results.hidden = true; this.results.replaceChildren(); return; }
    const [people, messages] = await Promise.allSettled([api.searchUsers(text), api.searchMessages(text)]);
    if (token !== this.searchToken) return; // a newer search started meanwhile
    const peopleList = h("ul", { class: "result-list", "aria-labelledby": "people-heading" });
    for (const user of people.value?.items ?? []) {
      if (user.id === state.me.id) continue;
      rememberUser(user);
      peopleList.append(h("li", { class: "person" },
        avatar({ id: user.id, name: user.displayName, url: user.avatarUrl, size: "sm" }),
        h("span", { class: "person-name" }, user.displayName, h("span", { class: "username" }, ` @${user.username}`)),
        h("button", { type: "button", class: "button small", "aria-label": `Message ${user.displayName}`, on: { click: () => this.openDirect(user) } }, "Message")));
    }
    if (!peopleList.children.length) peopleList.append(h("li", { class: "empty" }, people.status === "rejected" ? "Could not search people." : "Nobody found."));
    const messageList = h("ul", { class: "result-list", "aria-labelledby": "messages-heading" });
    for (const hit of messages.value?.items ?? []) {
      const conversation = state.conversations.get(hit.message.conversationId);
      messageList.append(h("li", {},
        h("a", { class: "message-hit", href: `#/c/${hit.message.conversationId}/m/${hit.message.seq}` },
          h("span", { class: "hit-where" }, conversation?.title ?? "Conversation", " · ", shortTime(hit.message.createdAt)),
          h("span", { class: "hit-snippet" }, snippet(hit.snippet)))));
    }
    if (!messageList.children.length) messageList.append(h("li", { class: "empty" }, messages.status === "rejected" ? "Could not search messages." : "No messages found."));
    setChildren(this.results,
      h("h2", { id: "people-heading", class: "results-heading" }, "People"), peopleList,
      h("h2", { id: "messages-heading", class: "results-heading" }, "Messages"), messageList);
    this.results.hidden = false;
  }

  async openDirect(user) {
    try {
      const conversation = await api.openDirect(user.id);
      await refreshConversation(conversation.id, { bump: !state.conversations.has(conversation.id) });
      const opened = state.conversations.get(conversation.id);
      if (opened) opened.peerId = user.id;
      this.search.value = "";
      this.results.hidden = true;
      location.hash = `#/c/${conversation.id}`;
    } catch (error) {
      toast(error.status === 403 ? `You cannot message ${user.displayName}.` : error.message, "error");
    }
  }
}
