// Preferences, described once as data and rendered by the settings screen (views/settings.js).
//
// They all live on the server (GET/PATCH /me/preferences), so they follow the user from device to
// device, and every change arrives live in each tab and device as `preferences.updated`. A change
// made here applies at once (an optimistic value that wins until the server has answered), and
// the last known values are kept in this browser (`parley.prefs`), so the next visit paints with
// them before anything is fetched — boot.js reads `parley.appearance`, which applyAppearance()
// writes, to set the theme, text size, contrast, motion, density and accent before the first paint.
import * as api from "./api.js";
import { state, emit } from "./store.js";
import { applyAccent, accentVars, isHex } from "./colors.js";

const LEVELS = [["all", "Every message"], ["mentions", "Only mentions and replies"], ["none", "Nothing (mentions and replies still reach the inbox)"]];

export const preferenceGroups = [
  {
    id: "appearance",
    legend: "Appearance",
    fields: [
      { key: "theme", label: "Theme", type: "choice", options: [["system", "Same as this device"], ["light", "Light"], ["dark", "Dark"]], default: "system" },
      { key: "accentColor", label: "Accent colour", type: "color", default: null },
      { key: "fontScale", label: "Text size", type: "select", number: true, options: [[0.875, "Small"], [1, "Medium"], [1.125, "Large"], [1.25, "Extra large"], [1.5, "Huge"]], default: 1 },
      { key: "density", label: "Density", type: "choice", options: [["comfortable", "Comfortable"], ["compact", "Compact"]], default: "comfortable" },
    ],
  },
  {
    id: "accessibility",
    legend: "Accessibility",
    fields: [
      { key: "highContrast", label: "High contrast", type: "toggle", default: false },
      { key: "reducedMotion", label: "Reduce motion (this device's own setting is always honoured)", type: "toggle", default: false },
      { key: "screenReaderAnnouncements", label: "Announce new messages to screen readers", type: "toggle", default: true },
    ],
  },
  {
    id: "notifications",
    legend: "Notifications",
    note: "What each conversation may tell you, unless you choose otherwise in its details. Mentions and replies always reach your inbox.",
    fields: [
      { key: "direct", label: "Direct conversations", type: "select", options: LEVELS, default: "all" },
      { key: "groups", label: "Groups", type: "select", options: LEVELS, default: "mentions" },
      { key: "desktop", label: "Show system notifications while Parley is open in the background", type: "toggle", default: true, permission: true },
      { key: "sound", label: "Play a sound for new notifications", type: "toggle", default: true },
      { key: "quietHours", label: "Quiet hours", type: "quietHours", default: { enabled: false, start: "22:00", end: "07:00", timeZone: "UTC" } },
    ],
  },
  {
    id: "privacy",
    legend: "Privacy",
    fields: [
      { key: "groupAdds", label: "Who can add me to groups", type: "choice", options: [["everyone", "Everyone"], ["contacts", "Only my contacts"]], default: "everyone" },
      { key: "showLastSeen", label: "Show others when I was last online", type: "toggle", default: true },
    ],
  },
];

const CACHE_KEY = "parley.prefs";
const APPEARANCE_KEY = "parley.appearance";
const OLD_LOCAL_KEY = "parley.prefs.local"; // before preferences moved to the server

let server = null;          // the preferences as the server last told them
const pending = new Map();  // "group.key" → {value}: changes made here that the server has not answered yet

function readCache() {
  try { return JSON.parse(localStorage.getItem(CACHE_KEY)) ?? null; } catch { return null; }
}

/** Without the full cache (a first visit, storage partly cleared): the look boot.js applied. */
function readAppearance() {
  let a;
  try { a = JSON.parse(localStorage.getItem(APPEARANCE_KEY)); } catch { a = null; }
  if (!a) return null;
  return {
    appearance: { theme: a.theme, fontScale: a.fontScale, density: a.density, accentColor: a.accentColor },
    accessibility: { highContrast: a.contrast === "high", reducedMotion: a.motion === "reduce" },
  };
}

/** The current values of a group, defaults filled in: the server's, else the last known. */
export function values(group) {
  const stored = (state.prefs ?? readCache() ?? readAppearance())?.[group.id];
  const result = {};
  for (const field of group.fields) result[field.key] = stored?.[field.key] ?? field.default;
  return result;
}

/** One setting's current value: preference("accessibility", "screenReaderAnnouncements"). */
export function preference(groupId, key) {
  return values(preferenceGroups.find((g) => g.id === groupId))[key];
}

/** The server's preferences (GET, a PATCH's answer, `preferences.updated`): applied at once. */
export function receivePreferences(prefs) {
  server = prefs;
  recompute();
}

function recompute() {
  const merged = structuredClone(server ?? readCache() ?? {});
  for (const [path, { value }] of pending) {
    const [group, key] = path.split(".");
    merged[group] ??= {};
    if (value === null) delete merged[group][key]; else merged[group][key] = value;
  }
  state.prefs = merged;
  try { localStorage.setItem(CACHE_KEY, JSON.stringify(merged)); } catch { /* storage full or off */ }
  applyAppearance();
  emit("prefs");
}

/**
 * Changes one setting: shown and applied at once, then stored on the server (which tells the
 * user's other tabs and devices). Rejects, and goes back to the server's value, when refused.
 * `null` returns a setting to its default (the accent colour: `"default"` on the wire).
 */
export async function setValue(group, key, value) {
  const path = `${group.id}.${key}`;
  const mine = { value };
  pending.set(path, mine);
  recompute();
  try {
    const answer = await api.updatePreferences({ [group.id]: { [key]: value === null ? "default" : value } });
    if (pending.get(path) === mine) pending.delete(path);
    receivePreferences(answer);
  } catch (error) {
    if (pending.get(path) === mine) pending.delete(path);
    recompute();
    throw error;
  }
}

/** Forgets the server's values on sign-out (the cache stays: the sign-in screen keeps the look). */
export function resetPreferences() {
  server = null;
  pending.clear();
}

/**
 * Settings kept in this browser before they moved to the server: sent once, for what the server
 * still has at its defaults, then forgotten.
 */
export async function migrateLocalPreferences() {
  let old;
  try { old = JSON.parse(localStorage.getItem(OLD_LOCAL_KEY)); } catch { old = null; }
  if (!old || !server) return;
  localStorage.removeItem(OLD_LOCAL_KEY);
  const a = old.appearance ?? {}, x = old.accessibility ?? {};
  const change = { appearance: {}, accessibility: {} };
  if (a.theme && a.theme !== "system" && server.appearance.theme === "system") change.appearance.theme = a.theme;
  const scale = { small: 0.875, large: 1.125, "x-large": 1.25 }[a.fontSize];
  if (scale && server.appearance.fontScale === 1) change.appearance.fontScale = scale;
  if (a.highContrast && !server.accessibility.highContrast) change.accessibility.highContrast = true;
  if (a.reduceMotion && !server.accessibility.reducedMotion) change.accessibility.reducedMotion = true;
  if (x.announceMessages === false && server.accessibility.screenReaderAnnouncements) change.accessibility.screenReaderAnnouncements = false;
  for (const key of Object.keys(change)) if (!Object.keys(change[key]).length) delete change[key];
  if (Object.keys(change).length) receivePreferences(await api.updatePreferences(change).catch(() => server));
}

const darkQuery = matchMedia("(prefers-color-scheme: dark)");

/**
 * Applies the appearance and accessibility settings to <html>: `data-theme` (system resolved to
 * light or dark), `data-contrast`, `data-motion`, `data-density`, the text size as the root font
 * size and the accent colour as custom properties — all of which styles.css keys on. Keeps what it
 * applied for boot.js, and tells the page (`appearance`: conversation themes follow the mode).
 */
export function applyAppearance() {
  const a = values(preferenceGroups[0]);
  const x = values(preferenceGroups[1]);
  const root = document.documentElement;
  const mode = a.theme === "dark" || (a.theme === "system" && darkQuery.matches) ? "dark" : "light";
  root.dataset.theme = mode;
  root.dataset.contrast = x.highContrast ? "high" : "normal";
  root.dataset.motion = x.reducedMotion ? "reduce" : "system";
  root.dataset.density = a.density;
  const scale = Math.min(2, Math.max(0.8, Number(a.fontScale) || 1));
  root.style.fontSize = scale === 1 ? "" : `${scale * 100}%`;
  applyAccent(root, a.accentColor, mode, x.highContrast);
  const saved = { theme: a.theme, contrast: root.dataset.contrast, motion: root.dataset.motion, density: a.density, fontScale: scale };
  if (isHex(a.accentColor)) saved.accentColor = a.accentColor;
  if (isHex(a.accentColor)) saved.accent = { light: accentVars(a.accentColor, "light", x.highContrast), dark: accentVars(a.accentColor, "dark", x.highContrast) };
  try { localStorage.setItem(APPEARANCE_KEY, JSON.stringify(saved)); } catch { /* storage off */ }
  emit("appearance");
}

darkQuery.addEventListener("change", () => applyAppearance());
// Another tab learnt new values (its cache write): the same look here at once, even signed out.
addEventListener("storage", (event) => {
  if (event.key === CACHE_KEY && !server) { applyAppearance(); emit("prefs"); }
});
