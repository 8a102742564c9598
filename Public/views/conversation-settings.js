// A conversation's settings, in its details dialog: what it may notify us about (our level, or
// our default), muting it for a while, the look its members share (editable by whom the server
// lets: a group's admins and owner, either person of a direct conversation) and our own look,
// which only we see. Our settings are GET/PATCH …/preferences; the shared look is PUT/DELETE
// …/theme, which every member sees live (`conversation.updated`).
import * as store from "../lib/store.js";
import { state, on } from "../lib/store.js";
import { preference } from "../lib/preferences.js";
import { CHAT_THEMES, WALLPAPERS, themeLabel, wallpaperLabel, isHex } from "../lib/colors.js";
import { h, setChildren, preserveFocus, toast, announce, fullTime } from "../lib/dom.js";

const LEVEL_TEXT = { all: "every message", mentions: "only mentions and replies", none: "nothing" };
const MUTES = [["1 hour", 3600e3], ["8 hours", 8 * 3600e3], ["1 day", 24 * 3600e3], ["Until I unmute", null]];
const FOREVER = "9999-12-31T23:59:59Z";

/** Returns {el, destroy}: the settings of conversation `id`, kept current while shown. */
export function conversationSettings(id) {
  const el = h("div", { class: "conversation-settings" });
  const notifications = h("section", { class: "dialog-section", "aria-labelledby": `notify-heading-${id}` });
  const look = h("section", { class: "dialog-section", "aria-labelledby": `look-heading-${id}` });
  el.append(notifications, look);
  let shownNotifications = null;
  let shownLook = null;

  const render = () => {
    const c = state.conversations.get(id);
    const prefs = state.conversationPrefs.get(id);
    if (!c) return;
    // Rebuilt only when what they show changed, so that a choice being made is not lost.
    const notifyKey = JSON.stringify([prefs, preference("notifications", c.kind === "direct" ? "direct" : "groups")]);
    if (notifyKey !== shownNotifications) {
      shownNotifications = notifyKey;
      preserveFocus(notifications, () => renderNotifications(notifications, c, prefs));
    }
    const lookKey = JSON.stringify([c.theme, prefs?.theme, c.myRole, Boolean(prefs)]);
    if (lookKey !== shownLook) {
      shownLook = lookKey;
      preserveFocus(look, () => renderLook(look, c, prefs));
    }
  };
  const unsubscribe = [on(`settings:${id}`, render), on(`conversation:${id}`, render), on("prefs", render)];
  render();
  store.loadConversationPrefs(id).catch((error) => toast(error.message, "error"));
  // A mute ends by itself: show it then.
  const timer = setInterval(() => { shownNotifications = null; render(); }, 30_000);
  return { el, destroy: () => { unsubscribe.forEach((off) => off()); clearInterval(timer); } };
}

async function save(id, change, done) {
  try {
    await store.updateConversationPrefs(id, change);
    announce(done);
  } catch (error) {
    toast(`Could not save: ${error.message}`, "error");
  }
}

function renderNotifications(container, c, prefs) {
  const headingId = `notify-heading-${c.id}`;
  if (!prefs) return setChildren(container, h("h3", { id: headingId }, "Notifications"), h("p", {}, "Loading…"));
  const fallback = preference("notifications", c.kind === "direct" ? "direct" : "groups");
  const select = h("select", { id: `conv-level-${c.id}`, data: { key: "conv-level" } },
    [["default", `My default (${LEVEL_TEXT[fallback]})`], ["all", "Every message"], ["mentions", "Only mentions and replies"], ["none", "Nothing"]]
      .map(([value, label]) => h("option", { value, selected: value === (prefs.custom ? prefs.notifications : "default") }, label)));
  select.addEventListener("change", () => save(c.id, { notifications: select.value }, "Notification level saved."));
  const until = prefs.mutedUntil && new Date(prefs.mutedUntil) > new Date() ? new Date(prefs.mutedUntil) : null;
  const forever = until && until.getFullYear() - new Date().getFullYear() > 50;
  const mute = until
    ? h("div", { class: "mute-state" },
      h("p", { class: "mute-status", role: "status" }, forever ? "Muted until you unmute it." : `Muted until ${fullTime(until.toISOString())}.`),
      h("button", { type: "button", class: "button small", data: { key: "unmute" }, on: { click: () => save(c.id, { mutedUntil: new Date().toISOString() }, "Unmuted.") } }, "Unmute"))
    : h("fieldset", { class: "mute-choices" },
      h("legend", {}, "Mute"),
      h("div", { class: "button-row" }, MUTES.map(([label, duration]) => h("button", {
        type: "button", class: "button small", data: { key: `mute-${label}` },
        "aria-label": duration ? `Mute for ${label}` : "Mute until I unmute",
        on: { click: () => save(c.id, { mutedUntil: duration ? new Date(Date.now() + duration).toISOString() : FOREVER }, duration ? `Muted for ${label}.` : "Muted until you unmute it.") },
      }, label))));
  setChildren(container,
    h("h3", { id: headingId }, "Notifications"),
    h("div", { class: "field" }, h("label", { for: select.id }, "Notify me about"), select),
    h("p", { class: "hint" }, "Mentions and replies always reach your inbox; muted, nothing pops up or makes a sound."),
    mute);
}

/** A theme picker: name, wallpaper and (optionally) an accent colour of one's own. */
function themeFields(prefix, theme, { withNone, noneLabel }) {
  const name = h("select", { id: `${prefix}-name`, name: `${prefix}-name`, data: { key: `${prefix}-name` } },
    withNone ? h("option", { value: "", selected: !theme }, noneLabel) : null,
    CHAT_THEMES.map(([value, label]) => h("option", { value, selected: theme?.name === value }, label)));
  const wallpaper = h("select", { id: `${prefix}-wallpaper`, name: `${prefix}-wallpaper`, data: { key: `${prefix}-wallpaper` } },
    WALLPAPERS.map(([value, label]) => h("option", { value, selected: (theme?.wallpaper ?? "none") === value }, label)));
  const custom = h("input", { type: "checkbox", id: `${prefix}-accent-on`, name: `${prefix}-accent-on`, checked: isHex(theme?.accentColor), data: { key: `${prefix}-accent-on` } });
  const color = h("input", { type: "color", id: `${prefix}-accent`, name: `${prefix}-accent`, "aria-label": "Accent colour", class: "color-input", value: isHex(theme?.accentColor) ? theme.accentColor : "#0b5cad", disabled: !isHex(theme?.accentColor), data: { key: `${prefix}-accent` } });
  custom.addEventListener("change", () => { color.disabled = !custom.checked; });
  const sync = () => { for (const el of [wallpaper, custom, color]) el.disabled = withNone && !name.value; if (!(withNone && !name.value)) color.disabled = !custom.checked; };
  name.addEventListener("change", sync);
  const el = h("div", { class: "theme-fields" },
    h("div", { class: "field" }, h("label", { for: name.id }, "Theme"), name),
    h("div", { class: "field" }, h("label", { for: wallpaper.id }, "Wallpaper"), wallpaper),
    h("div", { class: "check" }, custom, h("label", { for: custom.id }, "Accent colour of its own"), color));
  sync();
  const value = () => (!name.value ? null : { name: name.value, wallpaper: wallpaper.value, ...(custom.checked ? { accentColor: color.value } : {}) });
  return { el, value };
}

export function describeTheme(theme) {
  if (!theme) return "Parley's own look";
  const parts = [themeLabel(theme.name)];
  if (theme.wallpaper && theme.wallpaper !== "none") parts.push(`${wallpaperLabel(theme.wallpaper).toLowerCase()} wallpaper`);
  if (theme.accentColor) parts.push(`accent ${theme.accentColor}`);
  return parts.join(", ");
}

function renderLook(container, c, prefs) {
  const canEdit = c.kind === "direct" || c.myRole === "admin" || c.myRole === "owner";
  const headingId = `look-heading-${c.id}`;
  const who = c.kind === "direct" ? "either of you" : "the group's admins";
  let shared;
  if (canEdit) {
    const fields = themeFields(`conv-theme-${c.id}`, c.theme, { withNone: true, noneLabel: "Parley's own look" });
    shared = h("form", { class: "stack look-form", "aria-labelledby": `shared-look-${c.id}` },
      h("h4", { id: `shared-look-${c.id}` }, "For everyone"),
      h("p", { class: "hint" }, `Every member sees it; ${who} can change it.`),
      fields.el,
      h("div", {}, h("button", { type: "submit", class: "button small primary" }, "Save the look for everyone")));
    shared.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await store.setConversationTheme(c.id, fields.value());
        announce("The look was saved for everyone.");
      } catch (error) { toast(`Could not save the look: ${error.message}`, "error"); }
    });
  } else {
    shared = h("div", { class: "stack" },
      h("h4", {}, "For everyone"),
      h("p", { class: "shared-look" }, `${describeTheme(c.theme)}. Chosen by ${who}.`));
  }
  const own = themeFields(`my-theme-${c.id}`, prefs?.theme, { withNone: true, noneLabel: "The same as everyone" });
  const mine = h("form", { class: "stack look-form", "aria-labelledby": `my-look-${c.id}` },
    h("h4", { id: `my-look-${c.id}` }, "Just for me"),
    h("p", { class: "hint" }, "Only you see it, on all your devices."),
    own.el,
    h("div", {}, h("button", { type: "submit", class: "button small" }, "Use for me")));
  mine.addEventListener("submit", (event) => {
    event.preventDefault();
    const theme = own.value();
    save(c.id, theme ? { theme } : { resetTheme: true }, theme ? "Your own look was saved." : "You see the shared look again.");
  });
  setChildren(container, h("h3", { id: headingId }, "Look"), shared, prefs ? mine : null);
}
