// Runs before the first paint (a classic script in <head>, so it blocks rendering for a moment):
// applies the appearance last known in this browser — the user's preferences, which live on the
// server — so someone who chose the dark theme, larger text or their own accent colour never sees
// the defaults flash first. lib/preferences.js (applyAppearance) writes what this reads and applies
// it again on every change; keep the two in step.
(function () {
  var a = {};
  try { a = JSON.parse(localStorage.getItem("parley.appearance") || "{}") || {}; } catch (e) { /* private mode, bad JSON: defaults */ }
  var root = document.documentElement;
  var theme = a.theme || "system";
  if (theme === "system") theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  root.setAttribute("data-theme", theme);
  root.setAttribute("data-contrast", a.contrast === "high" ? "high" : "normal");
  root.setAttribute("data-motion", a.motion === "reduce" ? "reduce" : "system");
  root.setAttribute("data-density", a.density === "compact" ? "compact" : "comfortable");
  if (a.fontScale && a.fontScale !== 1) root.style.fontSize = a.fontScale * 100 + "%";
  var accent = a.accent && a.accent[theme];
  if (accent) for (var name in accent) root.style.setProperty(name, accent[name]);
})();
