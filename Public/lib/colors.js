// Colours chosen by people — the accent colour in the settings, a conversation's theme — turned
// into the custom properties styles.css uses, each adjusted until it meets WCAG 2.1 AA contrast
// (4.5:1, or 7:1 in high contrast) against what it is drawn on, in the light and the dark theme.
// Any "#rrggbb" works: a pale yellow accent becomes a darker yellow for links on white, and a
// navy one a lighter navy for links on the dark theme.

/** A conversation's shared look: the theme's accent (classic keeps the page's own). */
export const CHAT_THEMES = [
  ["classic", "Classic", null],
  ["rose", "Rose", "#c2185b"],
  ["ocean", "Ocean", "#0277bd"],
  ["forest", "Forest", "#2e7d32"],
  ["sunset", "Sunset", "#d84315"],
  ["midnight", "Midnight", "#3949ab"],
];
export const WALLPAPERS = [["none", "None"], ["dots", "Dots"], ["waves", "Waves"], ["paper", "Paper"]];
export const themeLabel = (name) => CHAT_THEMES.find(([n]) => n === name)?.[1] ?? name;
export const wallpaperLabel = (name) => WALLPAPERS.find(([n]) => n === name)?.[1] ?? name;

// What the accent is drawn on (styles.css): links on the surfaces, white or near-black text on it.
const SURFACES = {
  light: { darkest: "#e6e8ec", onAccent: "#ffffff", ownText: "#ffffff" },
  dark: { darkest: "#2b2f35", onAccent: "#0d1117", ownText: "#ffffff" },
};
export const isHex = (value) => typeof value === "string" && /^#[0-9a-f]{6}$/i.test(value);

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
function hex([r, g, b]) {
  return `#${[r, g, b].map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, "0")).join("")}`;
}
function luminance(color) {
  const [r, g, b] = rgb(color).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
function mix(color, target, amount) {
  const a = rgb(color), b = rgb(target);
  return hex(a.map((c, i) => c + (b[i] - c) * amount));
}

/** `color` mixed toward `toward` (black or white) in small steps until it contrasts `ratio` with `against`. */
function ensure(color, against, ratio, toward) {
  for (let step = 0; step <= 20; step++) {
    const candidate = mix(color, toward, step / 20);
    if (contrast(candidate, against) >= ratio) return candidate;
  }
  return toward;
}

/**
 * The accent's custom properties for one theme ("light" or "dark"): --accent for links, borders
 * and primary buttons, --on-accent for text on it, --own-bg and --own-muted for one's own message
 * bubbles (white text on them).
 */
export function accentVars(color, mode, high = false) {
  const ratio = high ? 7 : 4.5;
  const s = SURFACES[mode];
  const towardText = mode === "dark" ? "#ffffff" : "#000000";
  const accent = ensure(color, s.darkest, ratio, towardText);
  // Text on the accent: the theme's usual colour when it contrasts enough, else the other one.
  const onAccent = contrast(accent, s.onAccent) >= ratio ? s.onAccent : mode === "dark" ? "#ffffff" : "#0d1117";
  const ownBg = mode === "dark" ? ensure(color, s.ownText, Math.max(ratio, 6), "#000000") : ensure(color, s.ownText, ratio, "#000000");
  return {
    "--accent": accent,
    "--accent-hover": mix(accent, towardText, 0.2),
    "--on-accent": onAccent,
    "--own-bg": ownBg,
    "--own-text": s.ownText,
    "--own-muted": ensure(mix(ownBg, "#ffffff", 0.85), ownBg, ratio, "#ffffff"),
  };
}

/** Sets (or, with no colour, removes) the accent properties on an element, for its whole subtree. */
export function applyAccent(el, color, mode, high) {
  const vars = isHex(color) ? accentVars(color, mode, high) : null;
  for (const name of ["--accent", "--accent-hover", "--on-accent", "--own-bg", "--own-text", "--own-muted"]) {
    if (vars) el.style.setProperty(name, vars[name]);
    else el.style.removeProperty(name);
  }
  return vars;
}
