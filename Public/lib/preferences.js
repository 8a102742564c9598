// Preferences, described once as data and rendered by the settings screen (views/settings.js).
//
// Each group has a home: "server" groups live in GET/PATCH /me/preferences, follow the user from
// device to device and arrive live through `preferences.updated`; "local" groups are kept in this
// browser's localStorage. The settings screen and the rest of the page only use the functions
// below, so a group moves to the server — when the server learns appearance, accessibility or
// notification settings — by changing its `home` (and its field names to the server's).
import * as api from "./api.js";
import { state, emit } from "./store.js";

export const preferenceGroups = [
  {
    id: "privacy",
    home: "server",
    legend: "Privacy",
    fields: [
      { key: "groupAdds", label: "Who can add me to groups", type: "choice", options: [["everyone", "Everyone"], ["contacts", "Only my contacts"]] },
      { key: "showLastSeen", label: "Show others when I was last online", type: "toggle" },
    ],
  },
  {
    id: "appearance",
    home: "local",
    legend: "Appearance",
    note: "Kept on this device.",
    fields: [
      { key: "theme", label: "Theme", type: "choice", options: [["system", "Same as this device"], ["light", "Light"], ["dark", "Dark"]], default: "system" },
      { key: "fontSize", label: "Text size", type: "select", options: [["small", "Small"], ["medium", "Medium"], ["large", "Large"], ["x-large", "Extra large"]], default: "medium" },
      { key: "highContrast", label: "High contrast", type: "toggle", default: false },
      { key: "reduceMotion", label: "Reduce motion (this device's own setting is always honoured)", type: "toggle", default: false },
    ],
    apply: applyAppearance,
  },
  {
    id: "accessibility",
    home: "local",
    legend: "Accessibility",
    note: "Kept on this device.",
    fields: [
      { key: "announceMessages", label: "Announce new messages to screen readers", type: "toggle", default: true },
    ],
  },
];

/** One setting's current value: preference("accessibility", "announceMessages"). */
export function preference(groupId, key) {
  return values(preferenceGroups.find((g) => g.id === groupId))[key];
}

const LOCAL_KEY = "parley.prefs.local";

function readLocal() {
  try { return JSON.parse(localStorage.getItem(LOCAL_KEY)) ?? {}; } catch { return {}; }
}

/** The current values of a group, defaults filled in. */
export function values(group) {
  const stored = group.home === "server" ? state.prefs?.[group.id] : readLocal()[group.id];
  const result = {};
  for (const field of group.fields) result[field.key] = stored?.[field.key] ?? field.default;
  return result;
}

/** Changes one setting where the group lives; resolves when it is stored. */
export async function setValue(group, key, value) {
  if (group.home === "server") {
    state.prefs = await api.updatePreferences({ [group.id]: { [key]: value } });
  } else {
    const local = readLocal();
    local[group.id] = { ...local[group.id], [key]: value };
    localStorage.setItem(LOCAL_KEY, JSON.stringify(local));
  }
  group.apply?.(values(group));
  emit("prefs");
}

/**
 * Applies appearance settings as attributes on <html>, which styles.css keys on. boot.js does the
 * same before the first paint. "system" follows the device's colour scheme, live.
 */
export function applyAppearance(appearance = values(preferenceGroups.find((g) => g.id === "appearance"))) {
  const root = document.documentElement;
  const dark = appearance.theme === "dark" || (appearance.theme === "system" && darkQuery.matches);
  root.dataset.theme = dark ? "dark" : "light";
  root.dataset.font = appearance.fontSize;
  root.dataset.contrast = appearance.highContrast ? "high" : "normal";
  root.dataset.motion = appearance.reduceMotion ? "reduce" : "system";
}

const darkQuery = matchMedia("(prefers-color-scheme: dark)");
darkQuery.addEventListener("change", () => applyAppearance());
// Another tab changed a local setting.
addEventListener("storage", (event) => {
  if (event.key === LOCAL_KEY) { applyAppearance(); emit("prefs"); }
});
