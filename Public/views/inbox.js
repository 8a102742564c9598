// The notification inbox: a bell in the header with the unread count (in its accessible name
// too), and a panel listing the notifications — who, what, where, when, unread ones marked — that
// opens the conversation on a click and marks everything read on request. It follows the store,
// which keeps the inbox current from the user's event stream.
import { state, on, loadMoreNotifications, readNotifications, readAllNotifications } from "../lib/store.js";
import { h, avatar, timeElement, preserveFocus, setChildren, toast, announce } from "../lib/dom.js";

const SVG = "http://www.w3.org/2000/svg";
function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "bell-icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z");
  svg.append(path);
  return svg;
}

const WHAT = { mention: "mentioned you", reply: "replied to you", direct: "wrote to you", added_to_group: "added you to" };

export class Inbox {
  constructor() {
    this.count = h("span", { class: "inbox-count", "aria-hidden": "true" });
    this.button = h("button", {
      type: "button", id: "inbox-button", class: "inbox-button", "aria-expanded": "false", "aria-controls": "inbox-panel",
      on: { click: () => (this.panel.hidden ? this.open() : this.close()) },
    }, bellIcon(), this.count);
    this.list = h("ul", { class: "inbox-list", "aria-labelledby": "inbox-heading" });
    this.more = h("button", { type: "button", class: "button small", on: { click: () => loadMoreNotifications().catch((e) => toast(e.message, "error")) } }, "Show older");
    this.markAll = h("button", { type: "button", class: "button small", on: { click: () => this.readAll() } }, "Mark all read");
    this.heading = h("h2", { id: "inbox-heading", tabIndex: -1 }, "Notifications");
    this.panel = h("section", { id: "inbox-panel", class: "inbox-panel", "aria-labelledby": "inbox-heading", hidden: true },
      h("div", { class: "inbox-head" }, this.heading, this.markAll,
        h("button", { type: "button", class: "button small", "aria-label": "Close notifications", on: { click: () => this.close() } }, "Close")),
      this.list,
      h("div", { class: "inbox-more" }, this.more));
    this.panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); this.close(); } });
    this.onOutside = (e) => { if (!this.panel.hidden && !this.panel.contains(e.target) && !this.button.contains(e.target)) this.close(false); };
    document.addEventListener("pointerdown", this.onOutside);
    this.onRoute = () => this.close(false);
    addEventListener("hashchange", this.onRoute);
    const render = () => this.render();
    this.unsubscribe = [on("inbox", render), on("list", render), on("users", render)];
    this.render();
  }

  destroy() {
    this.unsubscribe.forEach((off) => off());
    document.removeEventListener("pointerdown", this.onOutside);
    removeEventListener("hashchange", this.onRoute);
    this.button.remove();
    this.panel.remove();
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.heading.focus();
  }

  close(returnFocus = true) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.button.focus();
  }

  async readAll() {
    try {
      await readAllNotifications();
      announce("All notifications marked read.");
    } catch (error) {
      toast(`Could not mark them read: ${error.message}`, "error");
    }
  }

  render() {
    const { items, unreadCount, nextCursor, loaded, loadingMore } = state.inbox;
    this.count.textContent = unreadCount > 99 ? "99+" : String(unreadCount);
    this.count.hidden = !unreadCount;
    this.button.setAttribute("aria-label", unreadCount ? `Notifications, ${unreadCount} unread` : "Notifications");
    this.button.classList.toggle("has-unread", unreadCount > 0);
    this.markAll.disabled = !unreadCount;
    this.more.hidden = !nextCursor;
    this.more.disabled = Boolean(loadingMore);
    preserveFocus(this.list, () => {
      if (!items.length) {
        this.rows = new Map();
        setChildren(this.list, h("li", { class: "empty" }, loaded ? "Nothing yet. Mentions, replies and new direct messages show up here." : "Loading…"));
        return;
      }
      // Keyed, as the conversation list: a row is rebuilt only when what it shows changed.
      const rows = new Map();
      if (this.list.querySelector(".empty")) this.list.replaceChildren();
      items.forEach((n, index) => {
        const key = this.rowKey(n);
        let row = this.rows?.get(n.id);
        if (!row || row.key !== key) {
          const li = this.item(n);
          if (row) row.li.replaceWith(li);
          row = { key, li };
        }
        rows.set(n.id, row);
        const there = this.list.children[index];
        if (there !== row.li) this.list.insertBefore(row.li, there ?? null);
      });
      const kept = new Set([...rows.values()].map((row) => row.li));
      for (const child of [...this.list.children]) if (!kept.has(child)) child.remove();
      this.rows = rows;
    });
  }

  rowKey(n) {
    const c = state.conversations.get(n.conversationId);
    return JSON.stringify([n.readAt ? 1 : 0, n.excerpt, n.actor?.displayName, n.actor?.avatarUrl, c?.title, c?.kind]);
  }

  item(n) {
    const conversation = state.conversations.get(n.conversationId);
    const where = conversation?.title ?? "a conversation";
    const actor = n.actor ?? {};
    const unread = !n.readAt;
    const what = n.kind === "added_to_group" ? [`${WHAT[n.kind]} `, h("strong", {}, where)]
      : conversation?.kind === "group" ? [`${WHAT[n.kind] ?? "wrote"} in `, h("strong", {}, where)] : [WHAT[n.kind] ?? "wrote to you"];
    return h("li", {},
      h("a", {
        class: ["notification-item", unread && "unread"], href: `#/c/${n.conversationId}`, data: { key: `n-${n.id}`, kind: n.kind, notificationId: n.id },
        on: { click: () => this.choose(n) },
      },
        avatar({ id: actor.id, name: actor.displayName, url: actor.avatarUrl, size: "sm" }),
        h("span", { class: "notification-text" },
          h("span", { class: "notification-title" }, unread ? h("span", { class: "visually-hidden" }, "Unread: ") : null,
            h("strong", {}, actor.displayName ?? "Someone"), " ", what),
          n.excerpt ? h("span", { class: "notification-excerpt" }, n.excerpt) : null,
          h("span", { class: "notification-time" }, timeElement(n.createdAt, true))),
        unread ? h("span", { class: "unread-dot", "aria-hidden": "true" }) : null));
  }

  /** A notification was clicked: the link opens its conversation; it is read, the panel closes. */
  choose(n) {
    if (!n.readAt) readNotifications([n.id]).catch(() => {});
    this.close(false);
  }
}
