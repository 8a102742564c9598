// Dialogs about conversations: creating a group, a group's details and administration, and the
// person in a direct conversation. Every control is shown only to those allowed to use it
// (`myRole`): admins edit the group and add or remove members; only the owner removes admins,
// changes roles (handing ownership on) and deletes the group; anyone may leave. Both dialogs also
// hold the conversation's notification settings and its look (views/conversation-settings.js).
import * as api from "../lib/api.js";
import * as store from "../lib/store.js";
import { state, on } from "../lib/store.js";
import { h, field, avatar, confirmDialog, toast, announce, showFormErrors, preserveFocus, debounce, setChildren, ago, pictureSetting } from "../lib/dom.js";
import { conversationSettings } from "./conversation-settings.js";

const ROLE_NAMES = { owner: "Owner", admin: "Admin", member: "Member" };

/** A modal dialog with a heading and a close button; removed from the page when closed. */
function modal(title, onClose) {
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const body = h("div", { class: "dialog-body" });
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId },
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "button small", on: { click: () => dialog.close() } }, "Close")),
    body);
  dialog.addEventListener("close", () => { onClose?.(); dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body };
}

/** People search inside a dialog: `onPick(user)` for each result's button labelled `action`. */
function peoplePicker({ label, action, exclude, onPick }) {
  const input = h("input", { type: "search", id: `pick-${Math.random().toString(36).slice(2)}`, autocomplete: "off" });
  const results = h("ul", { class: "result-list" });
  const run = debounce(async () => {
    const text = input.value.trim();
    if (!text) return results.replaceChildren();
    try {
      const { items } = await api.searchUsers(text);
      const people = items.filter((u) => u.id !== state.me.id && !exclude().has(u.id));
      setChildren(results, people.length ? people.map((user) => h("li", { class: "person" },
        avatar({ id: user.id, name: user.displayName, url: user.avatarUrl, size: "sm" }),
        h("span", { class: "person-name" }, user.displayName, h("span", { class: "username" }, ` @${user.username}`)),
        h("button", { type: "button", class: "button small", "aria-label": `${action} ${user.displayName}`, on: { click: () => { onPick(user); run(); } } }, action)))
        : h("li", { class: "empty" }, "Nobody found."));
    } catch (error) {
      setChildren(results, h("li", { class: "empty" }, error.message));
    }
  }, 250);
  input.addEventListener("input", run);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });
  return { el: h("div", { class: "field" }, h("label", { for: input.id }, label), input, results), rerun: run };
}

export function openNewGroupDialog() {
  const chosen = new Map();
  const { dialog, body } = modal("New group");
  const chosenList = h("ul", { class: "chips", "aria-label": "Members to add" });
  const renderChosen = () => setChildren(chosenList, [...chosen.values()].map((user) => h("li", { class: "chip" }, user.displayName,
    h("button", { type: "button", class: "link-button", "aria-label": `Remove ${user.displayName}`, on: { click: () => { chosen.delete(user.id); renderChosen(); picker.rerun(); } } }, "×"))));
  const picker = peoplePicker({ label: "Add people", action: "Add", exclude: () => new Set(chosen.keys()), onPick: (user) => { chosen.set(user.id, user); renderChosen(); } });
  const form = h("form", { class: "stack" },
    field({ label: "Title", name: "title", required: true, maxlength: 100 }),
    field({ label: "Description (optional)", name: "description", type: "textarea", maxlength: 1000, rows: 2 }),
    picker.el,
    chosenList,
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "button", on: { click: () => dialog.close() } }, "Cancel"),
      h("button", { type: "submit", class: "button primary" }, "Create group")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    try {
      const group = await api.createGroup({ title: form.elements.title.value.trim(), description: form.elements.description.value.trim() || undefined, memberIds: [...chosen.keys()] });
      await store.refreshConversation(group.id, { bump: true });
      dialog.close();
      location.hash = `#/c/${group.id}`;
      announce(`Group ${group.title} created.`);
    } catch (error) {
      showFormErrors(form, error.status === 403 ? { message: "Some of these people cannot be added to groups by you (their privacy settings)." } : error);
    }
  });
  body.append(form);
  form.elements.title.focus();
}

/** The details of a conversation: a group's administration, or the person of a direct chat. */
export function openDetailsDialog(id) {
  const conversation = state.conversations.get(id);
  if (!conversation) return;
  if (conversation.kind === "direct") return openPersonDialog(conversation);
  const unsubscribe = [];
  const { dialog, body } = modal("Group details", () => unsubscribe.forEach((off) => off()));
  const info = h("div", {});
  const members = h("div", {});
  const actions = h("div", { class: "dialog-actions spread" });
  const picker = peoplePicker({
    label: "Add people", action: "Add",
    exclude: () => new Set(state.members.get(id)?.keys() ?? []),
    onPick: async (user) => {
      try { await api.addMembers(id, [user.id]); announce(`${user.displayName} added.`); await store.loadMembers(id); }
      catch (error) { toast(error.status === 403 ? `${user.displayName} cannot be added to groups by you.` : error.message, "error"); }
    },
  });
  const addSection = h("section", { class: "dialog-section", "aria-label": "Add people" }, picker.el);
  const settings = conversationSettings(id);
  unsubscribe.push(settings.destroy);
  body.append(info, settings.el, members, addSection, actions);

  const render = () => {
    const c = state.conversations.get(id);
    if (!c) return dialog.close();
    const admin = c.myRole === "admin" || c.myRole === "owner";
    preserveFocus(body, () => {
      renderInfo(info, c, admin);
      renderMembers(members, c);
      addSection.hidden = !admin;
      setChildren(actions,
        h("button", { type: "button", class: "button", data: { key: "leave" }, on: { click: () => leave(c, dialog) } }, "Leave group"),
        c.myRole === "owner" ? h("button", { type: "button", class: "button danger", data: { key: "delete" }, on: { click: () => removeGroup(c, dialog) } }, "Delete group") : null);
    });
  };
  unsubscribe.push(on(`conversation:${id}`, render), on(`members:${id}`, render));
  render();
  store.loadMembers(id).catch((error) => toast(error.message, "error"));
}

function renderInfo(container, c, admin) {
  // Rebuilding the form while someone types in it would lose their text: only when it is not focused.
  if (container.contains(document.activeElement) && document.activeElement.matches("input:not([type=file]), textarea")) return;
  if (!admin) {
    setChildren(container, h("div", { class: "person-card" }, avatar({ id: c.id, name: c.title, url: c.iconUrl, size: "lg" }),
      h("div", {}, h("p", { class: "group-title" }, c.title), c.description ? h("p", {}, c.description) : null)));
    return;
  }
  // The icon setting outlives re-renders (its status line says what happened).
  container.icon ??= pictureSetting({
    inputId: "group-icon-input", label: "Group icon", id: c.id,
    pick: async (file) => { const upload = await api.uploadImage(file); applyGroup(await api.setGroupIcon(c.id, upload.id)); },
    remove: async () => applyGroup(await api.removeGroupIcon(c.id)),
  });
  container.icon.update({ url: c.iconUrl, name: c.title });
  const icon = container.icon.el;
  const form = h("form", { class: "stack" },
    field({ label: "Title", name: "title", required: true, maxlength: 100, value: c.title }),
    field({ label: "Description", name: "description", type: "textarea", maxlength: 1000, rows: 2, value: c.description ?? "" }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button primary small" }, "Save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    try {
      const updated = await api.updateGroup(c.id, { title: form.elements.title.value.trim(), description: form.elements.description.value.trim() });
      Object.assign(state.conversations.get(c.id) ?? {}, { title: updated.title, description: updated.description });
      store.emit(`conversation:${c.id}`); store.emit("list");
      announce("Group saved.");
      form.querySelector("button[type=submit]").blur();
    } catch (error) {
      showFormErrors(form, error);
    }
  });
  preserveFocus(container, () => setChildren(container, icon, form));
}

/** The group as an answer gave it (the `conversation.updated` event follows for every member). */
function applyGroup(updated) {
  const c = state.conversations.get(updated.id);
  if (!c) return;
  c.title = updated.title;
  if (updated.iconUrl) c.iconUrl = updated.iconUrl; else delete c.iconUrl;
  store.emit(`conversation:${c.id}`);
  store.emit("list");
}

function renderMembers(container, c) {
  const map = state.members.get(c.id);
  if (!map) return setChildren(container, h("p", {}, "Loading members…"));
  const list = [...map.values()];
  setChildren(container,
    h("h3", {}, `Members (${list.length})`),
    h("ul", { class: "member-list" }, list.map((member) => memberRow(c, member))));
}

function memberRow(c, member) {
  const me = member.user.id === state.me.id;
  const owner = c.myRole === "owner";
  const canRemove = !me && member.role !== "owner" && (owner || (c.myRole === "admin" && member.role === "member"));
  const presence = state.presence.get(member.user.id)?.status;
  const row = h("li", { class: "member" },
    avatar({ id: member.user.id, name: member.user.displayName, url: member.user.avatarUrl, presence, size: "sm" }),
    h("span", { class: "person-name" }, me ? `${member.user.displayName} (you)` : member.user.displayName, h("span", { class: "username" }, ` @${member.user.username}`)));
  if (owner && !me) {
    const selectId = `role-${member.user.id}`;
    const select = h("select", { id: selectId, data: { key: selectId }, "aria-label": `Role of ${member.user.displayName}` },
      ["member", "admin", "owner"].map((role) => h("option", { value: role, selected: role === member.role }, ROLE_NAMES[role])));
    select.addEventListener("change", () => changeRole(c, member, select));
    row.append(h("span", { class: "role-control" }, select));
  } else {
    row.append(h("span", { class: "role" }, ROLE_NAMES[member.role]));
  }
  if (canRemove) {
    row.append(h("button", { type: "button", class: "button small", data: { key: `remove-${member.user.id}` }, "aria-label": `Remove ${member.user.displayName}`,
      on: { click: () => removeMember(c, member) } }, "Remove"));
  }
  return row;
}

async function changeRole(c, member, select) {
  const role = select.value;
  if (role === "owner" && !await confirmDialog({ title: `Make ${member.user.displayName} the owner?`, message: "You become an admin. Only the owner can change roles or delete the group.", confirm: "Hand ownership on" })) {
    select.value = member.role;
    return;
  }
  try {
    await api.setRole(c.id, member.user.id, role);
    await store.loadMembers(c.id);
    announce(`${member.user.displayName} is now ${ROLE_NAMES[role].toLowerCase()}.`);
  } catch (error) {
    select.value = member.role;
    toast(error.message, "error");
  }
}

async function removeMember(c, member) {
  if (!await confirmDialog({ title: `Remove ${member.user.displayName}?`, message: `They will no longer see ${c.title}.`, confirm: "Remove", danger: true })) return;
  try {
    await api.removeMember(c.id, member.user.id);
    await store.loadMembers(c.id);
    announce(`${member.user.displayName} removed.`);
  } catch (error) { toast(error.message, "error"); }
}

async function leave(c, dialog) {
  if (!await confirmDialog({ title: `Leave ${c.title}?`, message: "You will no longer receive its messages.", confirm: "Leave", danger: true })) return;
  try {
    await api.removeMember(c.id, state.me.id);
    dialog.close();
  } catch (error) {
    toast(error.code === "owner_must_transfer" ? "Hand ownership to another member first: make them the owner, then leave." : error.message, "error");
  }
}

async function removeGroup(c, dialog) {
  if (!await confirmDialog({ title: `Delete ${c.title}?`, message: "Its whole history is deleted, for every member. This cannot be undone.", confirm: "Delete group", danger: true })) return;
  try {
    await api.deleteGroup(c.id);
    dialog.close();
  } catch (error) { toast(error.message, "error"); }
}

/** A direct conversation's person: profile, contact and block. */
function openPersonDialog(conversation) {
  const unsubscribe = [];
  const { body: dialogBody } = modal(conversation.title, () => unsubscribe.forEach((off) => off()));
  const body = h("div", { class: "dialog-body" });
  const settings = conversationSettings(conversation.id);
  unsubscribe.push(settings.destroy);
  dialogBody.append(body, settings.el);
  const render = async () => {
    const peer = await store.peerOf(conversation).catch(() => null);
    if (!peer) return setChildren(body, h("p", {}, "Could not load this person."));
    let user = state.users.get(peer);
    if (!user?.createdAt) { user = await api.getUser(peer).catch(() => user); if (user) store.rememberUser(user); }
    const contact = state.contacts.has(peer);
    const blocked = state.blocks.has(peer);
    const presence = state.presence.get(peer);
    preserveFocus(body, () => setChildren(body,
      h("div", { class: "person-card" },
        avatar({ id: peer, name: user?.displayName ?? conversation.title, url: user?.avatarUrl, presence: presence?.status, size: "lg" }),
        h("div", {},
          h("p", { class: "group-title" }, user?.displayName ?? conversation.title),
          user ? h("p", { class: "username" }, `@${user.username}`) : null,
          presence?.status === "online" ? h("p", {}, "Online") : (presence?.lastSeenAt ?? user?.lastSeenAt) ? h("p", {}, `Last seen ${ago(presence?.lastSeenAt ?? user.lastSeenAt)}`) : null)),
      user?.bio ? h("p", { class: "bio" }, user.bio) : null,
      h("div", { class: "dialog-actions spread" },
        h("button", { type: "button", class: "button", data: { key: "contact" }, on: { click: () => toggle(contact ? api.removeContact : api.addContact, peer, contact ? "Removed from contacts." : "Added to contacts.") } },
          contact ? "Remove from contacts" : "Add to contacts"),
        h("button", { type: "button", class: blocked ? "button" : "button danger", data: { key: "block" }, on: { click: () => toggleBlock(peer, blocked, render) } },
          blocked ? "Unblock" : "Block"))));
  };
  unsubscribe.push(on("contacts", render), on("presence", render), on("users", render));
  render();
}

async function toggle(action, userId, done) {
  try { await action(userId); announce(done); } catch (error) { toast(error.message, "error"); }
}

async function toggleBlock(userId, blocked, render) {
  if (!blocked && !await confirmDialog({ title: "Block this person?", message: "They will not be able to message you or add you to groups. They are not told.", confirm: "Block", danger: true })) return;
  try {
    if (blocked) { await api.unblock(userId); state.blocks.delete(userId); }
    else { await api.block(userId); state.blocks.add(userId); }
    announce(blocked ? "Unblocked." : "Blocked.");
    render();
  } catch (error) { toast(error.message, "error"); }
}
