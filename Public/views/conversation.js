// One conversation: its history (scrolling back loads older pages), the composer (send, reply,
// edit, `@` to mention someone), reactions, deletion, the typing line, "seen by" receipts, search
// within it, mentions highlighted (ours most), and its theme — the shared one or our own.
import * as store from "../lib/store.js";
import * as api from "../lib/api.js";
import { state, on } from "../lib/store.js";
import { h, avatar, timeElement, snippet, preserveFocus, confirmDialog, toast, announce, ago, prefersReducedMotion, setChildren, randomId, fullTime } from "../lib/dom.js";
import { applyAccent, CHAT_THEMES, WALLPAPERS } from "../lib/colors.js";
import { openDetailsDialog } from "./group.js";
import { MentionPicker } from "./mentions.js";

const QUICK_REACTIONS = [["👍", "thumbs up"], ["❤️", "heart"], ["😂", "laughing"], ["😮", "surprised"], ["😢", "sad"], ["🎉", "party"]];

export class ConversationView {
  constructor(id, { jumpToSeq } = {}) {
    this.id = id;
    this.rows = new Map(); // message id or pending clientMessageId → {key, li}
    this.mode = null;      // {kind: "reply"|"edit", message}
    this.build();
    const conversationChanged = () => { this.renderHeader(); this.applyTheme(); };
    this.unsubscribe = [
      on(`conversation:${id}`, conversationChanged),
      on(`settings:${id}`, conversationChanged),
      on("appearance", () => this.applyTheme()),
      on("presence", conversationChanged),
      on("users", () => { this.renderHeader(); this.renderMessages(); }),
      on(`thread:${id}`, () => this.renderMessages()),
      on(`members:${id}`, () => { this.renderHeader(); this.renderMessages(); }),
      on(`typing:${id}`, () => this.renderTyping()),
      on("left", () => this.onLeft()),
    ];
    this.onVisible = () => this.maybeMarkRead();
    document.addEventListener("visibilitychange", this.onVisible);
    this.renderHeader();
    this.applyTheme();
    this.load(jumpToSeq);
    store.loadConversationPrefs(id).catch(() => {});
  }

  destroy() {
    this.unsubscribe.forEach((off) => off());
    document.removeEventListener("visibilitychange", this.onVisible);
    clearInterval(this.typingTimer);
    for (const item of this.uploads) URL.revokeObjectURL(item.previewUrl);
  }

  get conversation() { return state.conversations.get(this.id); }

  build() {
    this.title = h("h1", { id: "conversation-title", class: "conversation-name", tabIndex: -1 });
    this.subtitle = h("p", { class: "conversation-sub" });
    this.mutedTag = h("span", { class: "tag muted-tag", hidden: true });
    this.avatarSlot = h("span", {});
    this.searchToggle = h("button", { type: "button", class: "button small", "aria-expanded": "false", "aria-controls": "conversation-search", on: { click: () => this.toggleSearch() } }, "Search");
    this.detailsButton = h("button", { type: "button", class: "button small", on: { click: () => openDetailsDialog(this.id) } }, "Details");
    this.searchInput = h("input", { type: "search", id: "conversation-search-input", name: "q", autocomplete: "off" });
    this.searchResults = h("ul", { class: "result-list", "aria-live": "polite" });
    this.searchForm = h("form", { id: "conversation-search", class: "conversation-search", role: "search", hidden: true, on: { submit: (e) => { e.preventDefault(); this.search(); } } },
      h("label", { for: "conversation-search-input" }, "Search this conversation"),
      h("div", { class: "inline-field" }, this.searchInput, h("button", { type: "submit", class: "button small" }, "Search")),
      this.searchResults);
    this.olderButton = h("button", { type: "button", class: "button small", on: { click: () => store.loadOlder(this.id) } }, "Load earlier messages");
    this.historyStatus = h("p", { class: "history-status" });
    this.list = h("ol", { class: "message-list" });
    this.scroller = h("section", { class: "messages", tabIndex: 0, "aria-label": "Message history" }, this.historyStatus, this.list);
    this.typingLine = h("p", { class: "typing-line" });
    this.contextText = h("p", { class: "composer-context-text" });
    this.context = h("div", { class: "composer-context", hidden: true }, this.contextText,
      h("button", { type: "button", class: "button small", on: { click: () => this.setMode(null) } }, "Cancel"));
    this.input = h("textarea", { id: "composer", name: "body", rows: 1, maxlength: 4000, autocomplete: "off", placeholder: "Write a message" });
    this.sendButton = h("button", { type: "submit", class: "button primary" }, "Send");
    // Images: picked with the button (a real file input, hidden), pasted, or dropped on the
    // conversation. Each uploads at once and waits in the tray, previewed, until the message goes.
    this.uploads = [];
    this.fileInput = h("input", { type: "file", id: "attach-input", name: "images", accept: api.IMAGE_TYPES.join(","), multiple: true, hidden: true, tabIndex: -1 });
    this.fileInput.addEventListener("change", () => { this.addFiles([...this.fileInput.files]); this.fileInput.value = ""; });
    this.attachButton = h("button", { type: "button", class: "button attach-button", "aria-label": "Attach images", title: "Attach images", on: { click: () => this.fileInput.click() } }, "＋");
    this.tray = h("ul", { class: "attachment-tray", "aria-label": "Images to send", hidden: true });
    this.picker = new MentionPicker(this.input, this.id);
    this.composer = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); this.submit(); } } },
      this.picker.list, this.attachButton, this.fileInput, this.input, this.sendButton);
    this.el = h("div", { class: "conversation" },
      h("header", { class: "conversation-header" },
        h("a", { class: "button small back-link", href: "#/", "aria-label": "Back to chats" }, "‹ Chats"),
        this.avatarSlot,
        h("div", { class: "conversation-heading" }, this.title, h("div", { class: "conversation-sub-line" }, this.subtitle, this.mutedTag)),
        h("div", { class: "conversation-actions" }, this.searchToggle, this.detailsButton)),
      this.searchForm,
      this.scroller,
      this.typingLine,
      this.context,
      this.tray,
      this.composer);
    this.input.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith("image/"));
      if (files.length) { e.preventDefault(); this.addFiles(files); }
    });
    this.el.addEventListener("dragover", (e) => { if (e.dataTransfer?.types.includes("Files")) e.preventDefault(); });
    this.el.addEventListener("drop", (e) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length) { e.preventDefault(); this.addFiles(files); }
    });

    this.input.addEventListener("keydown", (e) => this.onKey(e));
    this.input.addEventListener("input", () => {
      this.fitInput();
      if (this.input.value.trim() && this.mode?.kind !== "edit") store.typing(this.id);
    });
    this.scroller.addEventListener("scroll", () => this.maybeMarkRead(), { passive: true });
    // Scrolling near the top loads the previous page (and the next, while still near the top).
    this.scroller.addEventListener("scroll", () => this.maybeLoadOlder(), { passive: true });
  }

  async load(jumpToSeq) {
    this.historyStatus.replaceChildren("Loading messages…");
    try {
      await store.openThread(this.id);
      if (state.conversations.has(this.id)) store.loadMembers(this.id).catch(() => {});
      this.renderMessages({ toBottom: true });
      if (jumpToSeq) await this.jumpTo(jumpToSeq);
      else this.maybeLoadOlder(); // a short first page does not fill the pane: fetch more
    } catch (error) {
      if (error.status === 404) return this.onLeft(true);
      this.historyStatus.replaceChildren(`Could not load messages: ${error.message} `,
        h("button", { type: "button", class: "button small", on: { click: () => this.load(jumpToSeq) } }, "Try again"));
    }
  }

  focusComposer() { this.input.focus(); }

  renderHeader() {
    const c = this.conversation;
    if (!c) return;
    this.title.textContent = c.title;
    this.input.setAttribute("aria-label", `Message ${c.title}`);
    this.input.placeholder = `Message ${c.title}`;
    const peer = c.kind === "direct" ? c.peerId : null;
    const presence = peer ? state.presence.get(peer) : null;
    this.avatarSlot.replaceChildren(avatar({ id: peer ?? c.id, name: c.title, url: c.iconUrl ?? state.users.get(peer)?.avatarUrl, presence: presence?.status }));
    if (c.kind === "group") {
      this.subtitle.textContent = `${c.memberCount} member${c.memberCount === 1 ? "" : "s"}`;
    } else {
      const lastSeen = presence?.lastSeenAt ?? state.users.get(peer)?.lastSeenAt;
      this.subtitle.textContent = presence?.status === "online" ? "Online" : presence?.status === "away" ? "Away" : lastSeen ? `Last seen ${ago(lastSeen)}` : "";
    }
    this.detailsButton.textContent = c.kind === "group" ? "Group details" : "Details";
    const prefs = state.conversationPrefs.get(this.id);
    const muted = prefs?.mutedUntil && new Date(prefs.mutedUntil) > new Date();
    this.mutedTag.hidden = !muted && prefs?.notifications !== "none";
    this.mutedTag.textContent = muted ? "Muted" : "Notifications off";
    this.mutedTag.title = muted ? `Muted until ${fullTime(prefs.mutedUntil)}` : "";
  }

  /**
   * Shows the conversation's look: our own choice, else the shared theme — the accent as custom
   * properties on this pane (adjusted to AA contrast for the light or dark theme) and the
   * wallpaper as a class of the history.
   */
  applyTheme() {
    const theme = store.effectiveTheme(this.id);
    const root = document.documentElement;
    const accent = theme?.accentColor ?? CHAT_THEMES.find(([name]) => name === theme?.name)?.[2];
    applyAccent(this.el, accent, root.dataset.theme, root.dataset.contrast === "high");
    this.el.dataset.chatTheme = theme?.name ?? "default";
    const wallpaper = WALLPAPERS.some(([name]) => name === theme?.wallpaper) ? theme.wallpaper : "none";
    for (const [name] of WALLPAPERS) this.scroller.classList.toggle(`wallpaper-${name}`, name === wallpaper && name !== "none");
  }

  /** Renders the history: one <li> per message, rebuilt only when what it shows changed. */
  renderMessages({ toBottom = false } = {}) {
    const t = store.thread(this.id);
    if (!t) return;
    const atBottom = this.isAtBottom();
    const firstBefore = this.list.firstElementChild;
    const heightBefore = this.scroller.scrollHeight;
    const topBefore = this.scroller.scrollTop;

    this.historyStatus.replaceChildren(
      !t.loaded ? "Loading messages…" : t.loadingOlder ? "Loading earlier messages…" : t.hasMore ? this.olderButton : "This is the beginning of the conversation.");

    const members = state.members.get(this.id);
    const seen = this.seenLine(t, members);
    const items = [];
    let previousSender = null;
    for (const id of t.order) {
      const message = t.messages.get(id);
      items.push({ rowId: id, message, showSender: message.senderId !== previousSender, seen: seen?.messageId === id ? seen.text : null });
      previousSender = message.senderId;
    }
    for (const pending of t.pending.values()) {
      items.push({ rowId: pending.clientMessageId, message: pending, pending: true, showSender: previousSender !== state.me.id });
      previousSender = state.me.id;
    }

    preserveFocus(this.list, () => {
      const keep = new Set();
      items.forEach((item, index) => {
        keep.add(item.rowId);
        const key = this.rowKey(item, t);
        let row = this.rows.get(item.rowId);
        if (!row || row.key !== key) {
          const li = this.messageElement(item, t);
          if (row) row.li.replaceWith(li);
          row = { key, li };
          this.rows.set(item.rowId, row);
        }
        // Put it at its index; rows that are gone drift to the end and are removed below.
        const there = this.list.children[index];
        if (there !== row.li) this.list.insertBefore(row.li, there ?? null);
      });
      for (const [rowId, row] of this.rows) if (!keep.has(rowId)) { row.li.remove(); this.rows.delete(rowId); }
    });

    // Keep the view steady: stay at the bottom when we were there; when older messages were
    // added above, keep what was on screen where it was.
    if (toBottom || atBottom) this.scrollToBottom();
    else if (firstBefore && this.list.firstElementChild !== firstBefore && firstBefore.isConnected) {
      this.scroller.scrollTop = topBefore + (this.scroller.scrollHeight - heightBefore);
    }
    this.maybeMarkRead();
  }

  rowKey({ message, showSender, seen, pending }, t) {
    const replied = message.replyToId ? t.messages.get(message.replyToId) : null;
    return JSON.stringify([message.body, message.deleted, message.editedAt, message.reactions, showSender, seen, pending && message.status,
      message.attachments?.length, replied?.body, replied?.deleted, replied && store.userName(replied.senderId), store.userName(message.senderId), this.conversation?.myRole,
      message.mentionsAll, state.members.get(this.id)?.size]);
  }

  messageElement({ message, showSender, seen, pending }, t) {
    const own = message.senderId === state.me.id;
    const c = this.conversation;
    const sender = own ? "You" : store.userName(message.senderId);
    const li = h("li", {
      class: ["message", own && "own", message.deleted && "deleted", pending && "pending"],
      id: pending ? undefined : `m-${message.seq}`,
      tabIndex: -1,
      data: { seq: pending ? undefined : message.seq, id: pending ? undefined : message.id },
    });
    // Who wrote it: shown at the start of a run of messages, always there for screen readers.
    li.append(h("p", { class: ["message-sender", !(showSender && c?.kind === "group" && !own) && "visually-hidden"] }, `${sender}:`));
    if (message.replyToId) {
      const replied = t.messages.get(message.replyToId);
      const text = !replied ? "an earlier message" : replied.deleted ? "a deleted message" : `${store.userName(replied.senderId)}: ${store.preview(replied)}`;
      li.append(h("button", { type: "button", class: "reply-quote", data: { key: `quote-${message.id ?? message.clientMessageId}` }, on: { click: () => replied && this.jumpTo(replied.seq) } },
        h("span", { class: "visually-hidden" }, "In reply to "), text));
    }
    li.append(message.deleted
      ? h("p", { class: "message-body tombstone" }, "This message was deleted.")
      : h("div", { class: "message-content" }, this.messageContent(message)));

    const meta = h("p", { class: "message-meta" }, timeElement(message.createdAt, true));
    if (message.editedAt && !message.deleted) meta.append(" · ", h("span", {}, "edited"));
    if (pending) {
      meta.append(" · ", message.status === "sending" ? h("span", {}, "Sending…") : h("span", { class: "error-text" }, "Not sent"));
      if (message.status === "failed") {
        meta.append(" ",
          h("button", { type: "button", class: "link-button", data: { key: `retry-${message.clientMessageId}` }, on: { click: () => store.retrySend(this.id, message.clientMessageId) } }, "Retry"), " ",
          h("button", { type: "button", class: "link-button", on: { click: () => store.discardPending(this.id, message.clientMessageId) } }, "Discard"));
      }
    }
    if (seen) meta.append(" · ", h("span", { class: "seen" }, seen));
    li.append(meta);

    if (!pending && !message.deleted) {
      if (message.reactions.length) {
        li.append(h("ul", { class: "reactions", "aria-label": "Reactions" }, message.reactions.map((r) =>
          h("li", {}, h("button", {
            type: "button", class: "reaction", "aria-pressed": String(r.me), data: { key: `r-${message.id}-${r.emoji}` },
            "aria-label": `${r.emoji} ${r.count}${r.me ? ", including you" : ""}`,
            on: { click: () => this.react(message, r.emoji) },
          }, `${r.emoji} ${r.count}`)))));
      }
      li.append(this.actions(message, own));
    }
    return li;
  }

  /**
   * The content of a message: its text (always as a text node) and its images as thumbnails,
   * each a button that opens the full image. A message being sent shows the local previews.
   */
  messageContent(message) {
    const images = message.attachments ?? [];
    const sender = message.senderId === state.me.id ? "you" : store.userName(message.senderId);
    return [
      message.body ? h("p", { class: "message-body" }, this.withMentions(message)) : null,
      images.length ? h("ul", { class: "attachments", "aria-label": images.length === 1 ? "Image" : `${images.length} images` }, images.map((image, index) => {
        const alt = `Image${images.length > 1 ? ` ${index + 1} of ${images.length}` : ""} sent by ${sender}, ${image.width} × ${image.height}`;
        const [width, height] = fit(image.width, image.height, 240);
        const img = h("img", { class: "attachment-img", src: image.previewUrl ?? api.mediaUrl(image.thumbnailUrl), alt, width, height, decoding: "async" });
        return h("li", {}, image.previewUrl ? img
          : h("button", { type: "button", class: "attachment", data: { key: `img-${image.id}` }, on: { click: () => openImage(image, alt) } }, img));
      })) : null,
    ];
  }

  /**
   * A message's text with its mentions marked: `@name` of a member of this conversation (or
   * `@all` where it counted), ours in a stronger style. Text nodes only.
   */
  withMentions(message) {
    const body = message.body;
    const spans = mentionSpans(body);
    if (!spans.length) return body;
    const members = state.members.get(this.id);
    const mine = state.me.username.toLowerCase();
    const own = message.senderId === state.me.id;
    const parts = [];
    let at = 0;
    for (const { start, end, name } of spans) {
      const member = name === "all" ? message.mentionsAll : name === mine || [...(members?.values() ?? [])].some((m) => m.user.username === name);
      if (!member) continue;
      const me = !own && (name === mine || (name === "all" && message.mentionsAll));
      parts.push(body.slice(at, start), h("span", { class: ["mention", me && "mention-me"] }, body.slice(start, end)));
      at = end;
    }
    parts.push(body.slice(at));
    return parts;
  }

  actions(message, own) {
    const c = this.conversation;
    const canDelete = own || (c?.kind === "group" && (c.myRole === "admin" || c.myRole === "owner"));
    const picker = h("div", { class: "reaction-picker", role: "group", "aria-label": "Pick a reaction", hidden: true },
      QUICK_REACTIONS.map(([emoji, name]) => h("button", {
        type: "button", class: "reaction-choice", "aria-label": `React with ${name}`, data: { key: `pick-${message.id}-${emoji}` },
        on: { click: () => { picker.hidden = true; reactButton.setAttribute("aria-expanded", "false"); this.react(message, emoji); reactButton.focus(); } },
      }, emoji)));
    const reactButton = h("button", {
      type: "button", class: "action", "aria-expanded": "false", data: { key: `react-${message.id}` },
      on: { click: () => { picker.hidden = !picker.hidden; reactButton.setAttribute("aria-expanded", String(!picker.hidden)); if (!picker.hidden) picker.querySelector("button").focus(); } },
    }, "React");
    picker.addEventListener("keydown", (e) => { if (e.key === "Escape") { picker.hidden = true; reactButton.setAttribute("aria-expanded", "false"); reactButton.focus(); } });
    return h("div", { class: "message-actions" },
      h("div", { class: "action-row", role: "group", "aria-label": "Message actions" },
        reactButton,
        h("button", { type: "button", class: "action", data: { key: `reply-${message.id}` }, on: { click: () => this.setMode({ kind: "reply", message }) } }, "Reply"),
        own ? h("button", { type: "button", class: "action", data: { key: `edit-${message.id}` }, on: { click: () => this.setMode({ kind: "edit", message }) } }, "Edit") : null,
        canDelete ? h("button", { type: "button", class: "action danger-text", data: { key: `delete-${message.id}` }, on: { click: () => this.remove(message) } }, "Delete") : null),
      picker);
  }

  /** "Seen" (direct) or "Seen by A, B" (group) under our newest message that others have read. */
  seenLine(t, members) {
    if (!members) return null;
    const others = [...members.values()].filter((m) => m.user.id !== state.me.id);
    for (let i = t.order.length - 1; i >= 0; i--) {
      const message = t.messages.get(t.order[i]);
      if (message.senderId !== state.me.id) continue;
      const readers = others.filter((m) => m.lastReadSeq >= message.seq);
      if (!readers.length) return null;
      const text = this.conversation?.kind === "direct" ? "Seen"
        : readers.length === others.length ? "Seen by everyone" : `Seen by ${readers.map((m) => m.user.displayName).join(", ")}`;
      return { messageId: message.id, text };
    }
    return null;
  }

  renderTyping() {
    const names = store.typingUsers(this.id).map((userId) => store.userName(userId));
    this.typingLine.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : "Several people are typing…";
  }

  async maybeLoadOlder() {
    const t = store.thread(this.id);
    if (!t?.loaded || !t.hasMore || t.loadingOlder || this.scroller.scrollTop > 300) return;
    try {
      await store.loadOlder(this.id);
    } catch (error) {
      return toast(error.message, "error");
    }
    requestAnimationFrame(() => this.maybeLoadOlder());
  }

  isAtBottom() {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 48;
  }

  scrollToBottom() { this.scroller.scrollTop = this.scroller.scrollHeight; }

  /** Marks the conversation read when its newest message is on screen and the tab is visible. */
  maybeMarkRead() {
    if (document.visibilityState !== "visible" || !this.isAtBottom()) return;
    store.markRead(this.id);
  }

  fitInput() {
    const lines = this.input.value.split("\n").length;
    this.input.rows = Math.min(6, Math.max(1, lines));
  }

  onKey(event) {
    if (this.picker.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    } else if (event.key === "Escape" && this.mode) {
      this.setMode(null);
    } else if (event.key === "ArrowUp" && !this.input.value) {
      // Up in an empty composer edits one's last message, as in most chat apps.
      const t = store.thread(this.id);
      const last = t && [...t.order].reverse().map((id) => t.messages.get(id)).find((m) => m.senderId === state.me.id && !m.deleted);
      if (last) { event.preventDefault(); this.setMode({ kind: "edit", message: last }); }
    }
  }

  setMode(mode) {
    const wasEditing = this.mode?.kind === "edit";
    this.mode = mode;
    this.context.hidden = !mode;
    if (mode?.kind === "reply") {
      const m = mode.message;
      this.contextText.textContent = `Replying to ${m.senderId === state.me.id ? "yourself" : store.userName(m.senderId)}: ${store.preview(m)}`;
      this.sendButton.textContent = "Send";
    } else if (mode?.kind === "edit") {
      this.contextText.textContent = "Editing your message";
      this.input.value = mode.message.body;
      this.sendButton.textContent = "Save";
    } else {
      this.sendButton.textContent = "Send";
      if (wasEditing) this.input.value = "";
    }
    this.fitInput();
    this.input.focus();
  }

  /** Uploads picked images (at most 10 per message), each shown in the tray with its preview. */
  addFiles(files) {
    if (this.mode?.kind === "edit") return toast("Images cannot be added to a message being edited.", "error");
    for (const file of files) {
      if (this.uploads.length >= 10) { toast("A message can carry at most 10 images.", "error"); break; }
      if (!api.IMAGE_TYPES.includes(file.type)) { toast(`${file.name} is not a JPEG, PNG, GIF or WebP image.`, "error"); continue; }
      if (file.size > api.MAX_UPLOAD_BYTES) { toast(`${file.name} is larger than 10 MB.`, "error"); continue; }
      const item = { key: randomId(), name: file.name, previewUrl: URL.createObjectURL(file), status: "uploading", upload: null };
      item.done = api.uploadImage(file).then(
        (upload) => { item.upload = upload; item.status = "ready"; },
        (error) => { item.status = "failed"; item.error = error.message; })
        .finally(() => this.renderTray());
      this.uploads.push(item);
    }
    this.renderTray();
  }

  removeUpload(item, { revoke = true } = {}) {
    this.uploads = this.uploads.filter((u) => u !== item);
    if (revoke) URL.revokeObjectURL(item.previewUrl);
    this.renderTray();
  }

  renderTray() {
    this.tray.hidden = this.uploads.length === 0;
    preserveFocus(this.tray, () => setChildren(this.tray, this.uploads.map((item) => h("li", { class: ["tray-item", item.status] },
      h("img", { src: item.previewUrl, alt: `Preview of ${item.name}` }),
      h("span", { class: "tray-status" }, item.status === "uploading" ? "Uploading…" : item.status === "failed" ? `Not uploaded: ${item.error}` : "Ready"),
      h("button", { type: "button", class: "button small", data: { key: `untray-${item.key}` }, "aria-label": `Remove ${item.name}`, on: { click: () => { this.removeUpload(item); this.input.focus(); } } }, "Remove")))));
  }

  async submit() {
    const body = this.input.value.trim();
    if (this.mode?.kind !== "edit" && this.uploads.length) return this.submitWithImages(body);
    if (!body) return;
    if (body.length > 4000) return toast("A message can be at most 4,000 characters.", "error");
    const mode = this.mode;
    if (mode?.kind === "edit") {
      if (body === mode.message.body) return this.setMode(null);
      try {
        await store.editMessage(this.id, mode.message.id, body);
        this.setMode(null);
      } catch (error) {
        toast(`Could not edit: ${error.message}`, "error");
      }
      return;
    }
    this.input.value = "";
    this.fitInput();
    if (mode) this.setMode(null);
    store.sendMessage(this.id, body, mode?.kind === "reply" ? mode.message.id : undefined);
    this.scrollToBottom();
  }

  /** Sends text (optional) with the images in the tray, once they are all uploaded. */
  async submitWithImages(body) {
    if (body.length > 4000) return toast("A message can be at most 4,000 characters.", "error");
    if (this.sendingImages) return;
    this.sendingImages = true;
    this.sendButton.disabled = true;
    try {
      await Promise.all(this.uploads.map((item) => item.done));
    } finally {
      this.sendingImages = false;
      this.sendButton.disabled = false;
    }
    const ready = this.uploads.filter((item) => item.status === "ready");
    if (!ready.length && !body) return toast("The images could not be uploaded.", "error");
    const mode = this.mode;
    const attachments = ready.map((item) => ({ ...item.upload, previewUrl: item.previewUrl }));
    for (const item of ready) this.removeUpload(item, { revoke: false });
    this.input.value = "";
    this.fitInput();
    if (mode) this.setMode(null);
    store.sendMessage(this.id, body, mode?.kind === "reply" ? mode.message.id : undefined, attachments);
    this.scrollToBottom();
  }

  async react(message, emoji) {
    try { await store.toggleReaction(message, emoji); } catch (error) { toast(`Could not react: ${error.message}`, "error"); }
  }

  async remove(message) {
    if (!await confirmDialog({ title: "Delete this message?", message: "It is removed for everyone; a note that it was deleted stays.", confirm: "Delete", danger: true })) return;
    try {
      await store.deleteMessage(message.id);
      announce("Message deleted.");
    } catch (error) {
      toast(`Could not delete: ${error.message}`, "error");
    }
  }

  toggleSearch() {
    const open = this.searchForm.hidden;
    this.searchForm.hidden = !open;
    this.searchToggle.setAttribute("aria-expanded", String(open));
    if (open) this.searchInput.focus(); else this.searchToggle.focus();
  }

  async search() {
    const text = this.searchInput.value.trim();
    if (!text) return;
    try {
      const { items } = await api.searchMessages(text, this.id);
      setChildren(this.searchResults, items.length ? items.map((hit) => h("li", {},
        h("button", { type: "button", class: "message-hit", on: { click: () => this.jumpTo(hit.message.seq) } },
          h("span", { class: "hit-where" }, store.userName(hit.message.senderId), " · ", timeElement(hit.message.createdAt, true)),
          h("span", { class: "hit-snippet" }, snippet(hit.snippet)))))
        : h("li", { class: "empty" }, "No messages found."));
    } catch (error) {
      setChildren(this.searchResults, h("li", { class: "empty" }, `Could not search: ${error.message}`));
    }
  }

  /** Scrolls to a message, loading older pages until it is there (a search hit, a quoted reply). */
  async jumpTo(seq) {
    const t = store.thread(this.id);
    for (let i = 0; i < 40 && t && t.hasMore && !(t.order.length && t.messages.get(t.order[0]).seq <= seq); i++) {
      await store.loadOlder(this.id);
    }
    this.renderMessages();
    const li = this.list.querySelector(`#m-${seq}`);
    if (!li) return toast("That message is no longer here.", "error");
    li.scrollIntoView({ block: "center", behavior: prefersReducedMotion() ? "auto" : "smooth" });
    li.classList.add("highlight");
    li.focus({ preventScroll: true });
    setTimeout(() => li.classList.remove("highlight"), 2500);
  }

  onLeft(missing = false) {
    if (!missing && state.conversations.has(this.id)) return;
    const left = store.lastLeft?.id === this.id ? store.lastLeft : null;
    const text = missing ? "This conversation does not exist, or you are not in it." : left?.reason === "deleted" ? `${left.title} was deleted.`
      : left?.reason === "removed" ? `You were removed from ${left.title}.` : `You left ${left?.title ?? "the conversation"}.`;
    toast(text);
    location.hash = "#/";
  }
}

/**
 * Where `@name` mentions are in a text, as the server finds them (Sources/…/Mentions.swift): `@`
 * at a word boundary, then 3–32 letters, digits, `_` or `.` (a trailing `.` ends the sentence),
 * nothing inside `code`. Returns [{start, end, name}] with the name in lower case.
 */
export function mentionSpans(text) {
  const spans = [];
  const chars = [...text];
  const isName = (c) => c !== undefined && (/[A-Za-z0-9_.]/.test(c) || (c > "\x7f" && /[\p{L}\p{N}]/u.test(c)));
  let offset = 0; // in UTF-16 units, for slicing
  const offsets = chars.map((c) => { const o = offset; offset += c.length; return o; });
  offsets.push(offset);
  let inCode = false;
  for (let i = 0; i < chars.length;) {
    if (chars[i] === "`") { while (chars[i] === "`") i++; inCode = !inCode; continue; }
    if (inCode || chars[i] !== "@" || (i > 0 && (isName(chars[i - 1]) || chars[i - 1] === "@"))) { i++; continue; }
    let end = i + 1;
    while (end < chars.length && isName(chars[end])) end++;
    let nameEnd = end;
    while (nameEnd > i + 1 && chars[nameEnd - 1] === ".") nameEnd--;
    const name = chars.slice(i + 1, nameEnd).join("").toLowerCase();
    if (name.length >= 3 && name.length <= 32 && /^[a-z0-9_.]+$/.test(name)) spans.push({ start: offsets[i], end: offsets[nameEnd], name });
    i = end;
  }
  return spans;
}

/** Width and height that fit a `box` square, keeping the proportions (never enlarged). */
function fit(width, height, box) {
  const scale = Math.min(1, box / Math.max(width || 1, height || 1));
  return [Math.max(1, Math.round((width || box) * scale)), Math.max(1, Math.round((height || box) * scale))];
}

/** The full image in a dialog, with a link to the original. */
function openImage(image, alt) {
  const titleId = `img-${randomId()}`;
  const dialog = h("dialog", { class: "dialog dialog-image", "aria-labelledby": titleId },
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, alt),
      h("button", { type: "button", class: "button small", on: { click: () => dialog.close() } }, "Close")),
    h("img", { class: "full-image", src: api.mediaUrl(image.url), alt, width: image.width, height: image.height }),
    h("p", {}, h("a", { href: api.mediaUrl(image.url), target: "_blank", rel: "noopener" }, "Open the original")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/** What the conversation pane shows when none is open (desktop widths). */
export function emptyPane() {
  return h("div", { class: "empty-pane" },
    h("h1", { tabIndex: -1 }, "Parley"),
    h("p", {}, "Pick a conversation, search for someone to message, or create a group."));
}
