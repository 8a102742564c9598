// The settings screen: a list of sections, each a function that returns its element and may
// subscribe to store topics. A new kind of setting is a new section here; a new preference is a
// field in lib/preferences.js. Preferences live on the server: a change here applies at once, and
// the user's other tabs and devices apply it live (`preferences.updated`). Web Push is no
// preference but this browser's own subscription: a switch under the notification preferences.
import * as api from "../lib/api.js";
import { state, on, emit } from "../lib/store.js";
import { preferenceGroups, values, setValue } from "../lib/preferences.js";
import { permission, askPermission } from "../lib/alerts.js";
import * as push from "../lib/push.js";
import * as session from "../lib/session.js";
import { h, field, showFormErrors, toast, announce, preserveFocus, setChildren, fullTime, pictureSetting } from "../lib/dom.js";

const sections = [profileSection, accountSection, ...preferenceGroups.map((group) => (subscribe) => preferenceSection(group, subscribe)), sessionsSection, passwordSection, exportSection, deleteSection];

export class SettingsView {
  constructor() {
    this.cleanups = [];
    const subscribe = (topic, fn) => this.cleanups.push(on(topic, fn));
    this.el = h("div", { class: "settings" },
      h("h1", { tabIndex: -1 }, "Settings"),
      sections.map((section) => section(subscribe)));
  }
  destroy() { this.cleanups.forEach((off) => off()); }
}

/** Our profile changed here (other tabs and devices learn it from `user.updated`). */
function setMe(user) {
  state.me = user;
  emit("me");
}

function section(id, title, ...children) {
  return h("section", { class: "settings-section", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function profileSection(subscribe) {
  const picture = pictureSetting({
    inputId: "avatar-input", label: "Profile picture", id: state.me.id,
    pick: async (file) => { const upload = await api.uploadImage(file); setMe(await api.setAvatar(upload.id)); },
    remove: async () => setMe(await api.removeAvatar()),
  });
  const renderPicture = () => picture.update({ url: state.me.avatarUrl, name: state.me.displayName });
  subscribe?.("me", renderPicture);
  renderPicture();
  const form = h("form", { class: "stack" },
    field({ label: "Display name", name: "displayName", required: true, maxlength: 64, value: state.me.displayName, autocomplete: "name" }),
    field({ label: "About you", name: "bio", type: "textarea", maxlength: 500, rows: 3, value: state.me.bio ?? "" }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button primary" }, "Save profile")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    try {
      setMe(await api.updateMe({ displayName: form.elements.displayName.value.trim(), bio: form.elements.bio.value.trim() }));
      announce("Profile saved.");
      toast("Profile saved.");
    } catch (error) { showFormErrors(form, error); }
  });
  return section("settings-profile", "Profile", picture.el, form);
}

/** The username and the e-mail address: each changes by its own rules (a wait; a mailed link). */
function accountSection(subscribe) {
  const usernameForm = h("form", { class: "stack" },
    field({ label: "Username", name: "username", required: true, minlength: 3, maxlength: 32, value: state.me.username, autocomplete: "username",
      hint: "3-32 of a-z, 0-9, _ and . — after a change, the next one waits 30 days. Mentions of you keep working." }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button" }, "Change username")));
  usernameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(usernameForm, null);
    try {
      setMe(await api.updateMe({ username: usernameForm.elements.username.value.trim() }));
      toast(`You are @${state.me.username} now.`);
    } catch (error) {
      if (error.code === "rate_limited") showFormErrors(usernameForm, { errors: [{ field: "username", detail: `You changed it recently; you can again in ${Math.ceil((error.retryAfter ?? 0) / 86400)} days.` }] });
      else showFormErrors(usernameForm, error);
    }
  });

  const status = h("p", { class: "hint", id: "email-status" });
  const resend = h("button", { type: "button", class: "button small", data: { key: "resend-verification" } }, "Mail a new confirmation link");
  resend.addEventListener("click", async () => {
    try { await api.resendVerificationEmail(); toast(`A confirmation link is on its way to ${state.me.email}.`); }
    catch (error) { toast(error.message, "error"); }
  });
  const renderStatus = () => {
    setChildren(status, `${state.me.email} — ${state.me.emailVerified ? "confirmed" : "not confirmed yet"}`);
    resend.hidden = state.me.emailVerified;
    if (usernameForm.elements.username !== document.activeElement) usernameForm.elements.username.value = state.me.username;
  };
  subscribe?.("me", renderStatus);
  renderStatus();

  const emailForm = h("form", { class: "stack" },
    field({ label: "New e-mail address", name: "newEmail", type: "email", required: true, maxlength: 254, autocomplete: "email" }),
    field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "current-password", hint: "We mail a link to the new address; the change happens when you open it." }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button" }, "Change e-mail address")));
  emailForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(emailForm, null);
    const newEmail = emailForm.elements.newEmail.value.trim();
    try {
      await api.changeEmail(newEmail, emailForm.elements.password.value);
      emailForm.reset();
      toast(`Open the link we mailed to ${newEmail} to finish the change.`);
    } catch (error) {
      if (error.code === "invalid_credentials") showFormErrors(emailForm, { errors: [{ field: "password", detail: "That is not your password." }] });
      else showFormErrors(emailForm, error);
    }
  });
  return section("settings-account", "Account", h("div", { class: "stack tight" }, status, h("div", {}, resend)), usernameForm, emailForm);
}

/** One group of preferences, rendered from its description; re-rendered when its values change. */
function preferenceSection(group, subscribe) {
  const body = h("div", { class: "stack" });
  let shown = null;
  const render = (force) => {
    const current = values(group);
    const key = JSON.stringify(current);
    if (key === shown && force !== true) return;
    shown = key;
    preserveFocus(body, () => setChildren(body, group.fields.map((f) => control(group, f, current[f.key], () => render(true)))));
  };
  subscribe?.("prefs", render);
  render();
  return section(`settings-${group.id}`, group.legend, group.note ? h("p", { class: "hint" }, group.note) : null, body,
    group.id === "notifications" ? pushSetting(() => render(true)) : null);
}

/**
 * Web Push for this browser, shown where both the browser and the server can do it (otherwise a
 * line says why), as it really is: subscribed here, for the person signed in, or not.
 */
function pushSetting(permissionChanged) {
  const el = h("div", { class: "stack tight push-setting" });
  const input = h("input", { type: "checkbox", id: "push-enabled", "aria-describedby": "push-hint", data: { key: "push-enabled" } });
  let busy = false;
  const show = (state) => {
    if (state === "unsupported") return setChildren(el, h("p", { class: "hint" }, "This browser cannot show notifications while Parley is closed."));
    if (state === "unavailable") return setChildren(el, h("p", { class: "hint" }, "This Parley server does not send push notifications."));
    input.checked = state === "on";
    if (!input.isConnected) setChildren(el,
      h("div", { class: "check" }, input, h("label", { for: input.id }, "Push notifications when Parley is closed")),
      h("p", { class: "hint", id: "push-hint" }, "Mentions, replies and direct messages reach this browser even with no tab of Parley open, as your levels, mutes and quiet hours allow."));
  };
  input.addEventListener("change", async () => {
    if (busy) { input.checked = !input.checked; return; }
    busy = true;
    const on = input.checked;
    try {
      await (on ? push.enablePush() : push.disablePush());
      announce(on ? "Push notifications on for this browser." : "Push notifications off for this browser.");
    } catch (error) {
      toast(`Could not turn push notifications ${on ? "on" : "off"}: ${error.message}`, "error");
    }
    permissionChanged(); // enabling asked for the permission that the line above shows
    show(await push.pushState().catch(() => "off"));
    busy = false;
  });
  push.pushState().then(show, (error) => setChildren(el, h("p", { class: "hint" }, `Could not check push notifications: ${error.message}`)));
  return el;
}

function control(group, f, value, rerender) {
  const id = `pref-${group.id}-${f.key}`;
  const change = async (next) => {
    try { await setValue(group, f.key, next); announce(`${f.label}: saved.`); }
    catch (error) { toast(`Could not save: ${error.message}`, "error"); }
  };
  if (f.type === "toggle") {
    const input = h("input", { type: "checkbox", id, checked: Boolean(value), data: { key: id } });
    input.addEventListener("change", () => change(input.checked));
    const row = h("div", { class: "check" }, input, h("label", { for: id }, f.label));
    return f.permission ? h("div", { class: "stack tight" }, row, permissionLine(rerender)) : row;
  }
  if (f.type === "select") {
    const options = f.number && !f.options.some(([v]) => v === value) ? [...f.options, [value, `Custom (${Math.round(value * 100)} %)`]] : f.options;
    const select = h("select", { id, data: { key: id } }, options.map(([v, label]) => h("option", { value: String(v), selected: v === value }, label)));
    select.addEventListener("change", () => change(f.number ? Number(select.value) : select.value));
    return h("div", { class: "field" }, h("label", { for: id }, f.label), select);
  }
  if (f.type === "color") return colorControl(id, f, value, change);
  if (f.type === "quietHours") return quietHoursControl(id, f, value, change);
  // "choice": radio buttons in a fieldset.
  return h("fieldset", { class: "choice" }, h("legend", {}, f.label),
    f.options.map(([v, label]) => {
      const optionId = `${id}-${v}`;
      const input = h("input", { type: "radio", name: id, id: optionId, value: v, checked: v === value, data: { key: optionId } });
      input.addEventListener("change", () => input.checked && change(v));
      return h("div", { class: "check" }, input, h("label", { for: optionId }, label));
    }));
}

/** The accent colour: a colour input, and a way back to Parley's own. Saved when picked. */
function colorControl(id, f, value, change) {
  const input = h("input", { type: "color", id, class: "color-input", value: value ?? "#0b5cad", data: { key: id } });
  input.addEventListener("change", () => change(input.value));
  return h("div", { class: "field" },
    h("label", { for: id }, f.label),
    h("div", { class: "inline-field" }, input,
      h("span", { class: "hint color-value" }, value ? `Your colour, ${value}, adjusted where needed to stay readable.` : "Parley's own."),
      value ? h("button", { type: "button", class: "button small", data: { key: `${id}-reset` }, on: { click: () => change(null) } }, "Use Parley's colour") : null));
}

/** Quiet hours: on or off, from, to, and the time zone they are in (this device's by default). */
function quietHoursControl(id, f, value, change) {
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [here];
  const enabled = h("input", { type: "checkbox", id: `${id}-enabled`, checked: value.enabled, data: { key: `${id}-enabled` } });
  const start = h("input", { type: "time", id: `${id}-start`, value: value.start, required: true, data: { key: `${id}-start` } });
  const end = h("input", { type: "time", id: `${id}-end`, value: value.end, required: true, data: { key: `${id}-end` } });
  const zone = h("select", { id: `${id}-zone`, data: { key: `${id}-zone` } },
    [...new Set([value.timeZone, here, "UTC", ...zones])].map((z) => h("option", { value: z, selected: z === value.timeZone }, z.replaceAll("_", " "))));
  const send = (extra = {}) => {
    if (!start.value || !end.value) return;
    change({ enabled: enabled.checked, start: start.value, end: end.value, timeZone: zone.value, ...extra });
  };
  // Turned on for the first time: in this device's time zone rather than the server's UTC.
  enabled.addEventListener("change", () => send(enabled.checked && value.timeZone === "UTC" && here ? { timeZone: here } : {}));
  for (const input of [start, end, zone]) input.addEventListener("change", () => send());
  return h("fieldset", { class: "choice quiet-hours" },
    h("legend", {}, f.label),
    h("p", { class: "hint" }, "No sounds or system notifications in these hours. Your inbox still fills."),
    h("div", { class: "check" }, enabled, h("label", { for: enabled.id }, "On")),
    h("div", { class: "inline-field wrap" },
      h("div", { class: "field" }, h("label", { for: start.id }, "From"), start),
      h("div", { class: "field" }, h("label", { for: end.id }, "To"), end),
      h("div", { class: "field grow" }, h("label", { for: zone.id }, "Time zone"), zone)));
}

/** Whether this browser may show system notifications, and a button to ask when it has not said. */
function permissionLine(rerender) {
  const state = permission();
  if (state === "unsupported") return h("p", { class: "hint" }, "This browser cannot show system notifications.");
  if (state === "granted") return h("p", { class: "hint" }, "This browser allows Parley's notifications.");
  if (state === "denied") return h("p", { class: "hint" }, "This browser blocks Parley's notifications: allow them in its site settings.");
  return h("div", {}, h("button", {
    type: "button", class: "button small", data: { key: "ask-permission" },
    on: { click: async () => { const answer = await askPermission(); announce(answer === "granted" ? "Notifications allowed." : "Notifications not allowed."); rerender(); } },
  }, "Allow notifications in this browser"));
}

function sessionsSection(subscribe) {
  const list = h("ul", { class: "session-list" });
  const load = async () => {
    try {
      const { items } = await api.listSessions();
      preserveFocus(list, () => setChildren(list, items.map((s) => h("li", { class: "session", data: { sessionId: s.id } },
        h("div", {},
          h("p", { class: "session-name" }, s.deviceName ?? "Unnamed device", s.current ? h("span", { class: "tag" }, "This device") : null),
          s.userAgent ? h("p", { class: "hint" }, s.userAgent) : null,
          h("p", { class: "hint" }, `Signed in ${fullTime(s.createdAt)} · last active ${fullTime(s.lastUsedAt)}`)),
        s.current ? null : h("button", {
          type: "button", class: "button small", data: { key: `revoke-${s.id}` }, "aria-label": `Sign out ${s.deviceName ?? "unnamed device"}, signed in ${fullTime(s.createdAt)}`,
          on: { click: () => revoke(s) },
        }, "Sign out")))));
    } catch (error) {
      setChildren(list, h("li", {}, `Could not load sessions: ${error.message}`));
    }
  };
  const revoke = async (s) => {
    try {
      await api.revokeSession(s.id);
      announce(`${s.deviceName ?? "The device"} was signed out.`);
      await load();
    } catch (error) { toast(error.message, "error"); }
  };
  subscribe?.("sessions", load);
  load();
  return section("settings-sessions", "Where you are signed in", list);
}

function passwordSection() {
  const form = h("form", { class: "stack" },
    field({ label: "Current password", name: "current", type: "password", autocomplete: "current-password", required: true }),
    field({ label: "New password", name: "next", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128, hint: "At least 8 characters. Your other devices will be signed out." }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button primary" }, "Change password")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    try {
      await api.changePassword(form.elements.current.value, form.elements.next.value);
      form.reset();
      toast("Password changed. Your other devices were signed out.");
    } catch (error) {
      if (error.code === "invalid_credentials") showFormErrors(form, { errors: [{ field: "current", detail: "That is not your current password." }] });
      else showFormErrors(form, { message: error.message, errors: error.errors?.map((e) => ({ ...e, field: { newPassword: "next", currentPassword: "current" }[e.field] ?? e.field })) });
    }
  });
  return section("settings-password", "Password", form);
}

/** An archive of everything the account holds: asked for here, built by the server, mailed. */
function exportSection() {
  const status = h("p", { class: "hint", role: "status", id: "export-status" });
  const button = h("button", { type: "button", class: "button", data: { key: "export" } }, "Export my data");
  let timer = null;
  const show = async () => {
    clearTimeout(timer);
    let latest = null;
    try { latest = await api.getExport(); } catch (error) { if (error.status !== 404) { setChildren(status, `Could not check: ${error.message}`); return; } }
    if (!latest) return setChildren(status, "Everything you wrote and uploaded, in one file (JSON Lines), once a day.");
    if (latest.status === "pending") {
      setChildren(status, "Your archive is being prepared…");
      if (status.isConnected || !timer) timer = setTimeout(show, 2000);
      return;
    }
    setChildren(status, latest.url
      ? h("span", {}, "Your archive is ready: ", h("a", { href: latest.url, download: "" }, `download (${Math.ceil(latest.size / 1024)} KiB)`), ` until ${fullTime(latest.expiresAt)}.`)
      : "Your last archive has expired.");
  };
  button.addEventListener("click", async () => {
    try { await api.requestExport(); toast("Your archive is being prepared; a mail will bring its link."); }
    catch (error) { toast(error.code === "rate_limited" ? "One archive a day: try again tomorrow." : error.message, "error"); }
    show();
  });
  show();
  return section("settings-export", "Your data", status, h("div", {}, button));
}

/** Deleting the account: the password again, and whether the messages go too. */
function deleteSection() {
  const form = h("form", { class: "stack" },
    h("p", { class: "hint" }, "You are signed out everywhere at once. Your groups pass to their admins; your messages stay, under \u201cDeleted user\u201d, unless you delete them too. This cannot be undone."),
    h("div", { class: "check" },
      h("input", { type: "checkbox", id: "delete-messages", name: "deleteMessages" }),
      h("label", { for: "delete-messages" }, "Also delete every message I sent")),
    field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
    h("p", { class: "form-error", role: "alert", tabIndex: -1 }),
    h("div", {}, h("button", { type: "submit", class: "button danger" }, "Delete my account")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showFormErrors(form, null);
    try {
      await api.deleteMe(form.elements.password.value, form.elements.deleteMessages.checked);
      session.end("account_deleted");
    } catch (error) {
      if (error.code === "invalid_credentials") showFormErrors(form, { errors: [{ field: "password", detail: "That is not your password." }] });
      else showFormErrors(form, error);
    }
  });
  return section("settings-delete", "Delete account", form);
}
