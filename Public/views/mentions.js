// `@` in the composer: a list of the conversation's members whose username or name starts with
// what follows the `@` (and `@all` for a group's admins), picked with the arrows and Enter or Tab,
// or a click. The textarea keeps the focus; the option under the arrows is its
// aria-activedescendant, so screen readers read it.
import { state } from "../lib/store.js";
import { h, avatar, setChildren } from "../lib/dom.js";

const QUERY = /(^|[^A-Za-z0-9_.@])@([A-Za-z0-9_.]{0,32})$/;

export class MentionPicker {
  /** `input`: the composer's textarea; `conversationId`: whose members to offer. */
  constructor(input, conversationId) {
    this.input = input;
    this.conversationId = conversationId;
    this.options = [];
    this.active = 0;
    this.list = h("ul", { id: "mention-options", class: "mention-options", role: "listbox", "aria-label": "People to mention", hidden: true });
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", "mention-options");
    input.addEventListener("input", () => this.update());
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    input.addEventListener("click", () => this.update());
  }

  get open() { return !this.list.hidden; }

  /** The `@query` just before the caret, if any. */
  query() {
    const caret = this.input.selectionStart;
    if (caret !== this.input.selectionEnd) return null;
    const match = QUERY.exec(this.input.value.slice(0, caret));
    return match ? { text: match[2].toLowerCase(), start: caret - match[2].length - 1, end: caret } : null;
  }

  update() {
    const q = this.query();
    const members = state.members.get(this.conversationId);
    if (!q || !members) return this.close();
    const conversation = state.conversations.get(this.conversationId);
    const people = [...members.values()].map((m) => m.user).filter((u) => u.id !== state.me.id && (u.username.startsWith(q.text)
      || u.displayName.toLowerCase().split(/\s+/).some((word) => word.startsWith(q.text))));
    people.sort((a, b) => a.username.localeCompare(b.username));
    const options = people.slice(0, 6).map((user) => ({ name: user.username, label: user.displayName, user }));
    if (conversation?.kind === "group" && (conversation.myRole === "admin" || conversation.myRole === "owner") && "all".startsWith(q.text)) {
      options.push({ name: "all", label: "Everyone in this group" });
    }
    if (!options.length) return this.close();
    this.options = options;
    this.active = Math.min(this.active, options.length - 1);
    this.render();
  }

  render() {
    setChildren(this.list, this.options.map((option, index) => h("li", {
      id: `mention-option-${index}`, role: "option", class: "mention-option", "aria-selected": String(index === this.active),
      on: { pointerdown: (e) => { e.preventDefault(); this.choose(index); } },
    },
      option.user ? avatar({ id: option.user.id, name: option.user.displayName, url: option.user.avatarUrl, size: "sm" }) : h("span", { class: "mention-all", "aria-hidden": "true" }, "@"),
      h("span", { class: "person-name" }, option.label, h("span", { class: "username" }, ` @${option.name}`)))));
    this.list.hidden = false;
    this.input.setAttribute("aria-activedescendant", `mention-option-${this.active}`);
  }

  close() {
    if (!this.open) return;
    this.list.hidden = true;
    this.active = 0;
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Keys while the list is open; returns true when it used the key (the composer must not). */
  handleKey(event) {
    if (!this.open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : this.options.length - 1)) % this.options.length;
      this.render();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.isComposing) {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  choose(index) {
    const option = this.options[index];
    const q = this.query();
    if (!option || !q) return this.close();
    const value = this.input.value;
    const insert = `@${option.name} `;
    this.input.value = value.slice(0, q.start) + insert + value.slice(q.end);
    const caret = q.start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.focus();
    this.input.dispatchEvent(new Event("input"));
  }
}
