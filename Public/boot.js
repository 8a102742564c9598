// Runs before the first paint (a classic script in <head>, so it blocks rendering for a moment):
// applies the appearance saved in this browser, so someone who chose the dark theme never sees a
// white flash. lib/preferences.js owns these settings and applies them again on every change; keep
// the two in step.
(function () {
  var a = {};
  try { a = JSON.parse(localStorage.getItem("parley.prefs.local") || "{}").appearance || {}; } catch (e) { /* private mode, bad JSON: defaults */ }
  var root = document.documentElement;
  var theme = a.theme || "system";
  if (theme === "system") theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  root.setAttribute("data-theme", theme);
  root.setAttribute("data-font", a.fontSize || "medium");
  root.setAttribute("data-contrast", a.highContrast ? "high" : "normal");
  root.setAttribute("data-motion", a.reduceMotion ? "reduce" : "system");
})();
