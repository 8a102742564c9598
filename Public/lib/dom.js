// DOM helpers. Every piece of user text reaches the page through text nodes (h() children, the
// `text` prop): nothing here, nor anywhere else in the page, assigns innerHTML. That is what makes
// the page safe from XSS, together with the Content-Security-Policy the server sends.
import { mediaUrl } from "./api.js";

/**
 * Creates an element. `props`: `class`, `text`, `on: {event: handler}`, `data: {key: value}`,
 * DOM properties that are booleans or values (`hidden`, `disabled`, `value`, `checked`, `type`…),
 * and any other key as an attribute (`aria-label`, `for`, `role`…). Children: nodes, strings
 * (text nodes), arrays; null/undefined/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false && !(key in PROPERTIES)) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === "data") for (const [k, v] of Object.entries(value)) { if (v !== undefined) el.dataset[k] = v; }
    else if (key in PROPERTIES) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

const PROPERTIES = { hidden: 1, disabled: 1, value: 1, checked: 1, selected: 1, required: 1, multiple: 1, readOnly: 1, type: 1, name: 1, id: 1, htmlFor: 1, tabIndex: 1, autofocus: 1 };

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children (same rules as h()'s children). */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Runs `render`, which rebuilds part of `container`, and puts the keyboard focus back on the
 * element that had it: the one with the same `data-key`. Lists re-render often (a message is
 * edited, a reaction arrives); without this, a keyboard user would be thrown to the page's top.
 */
export function preserveFocus(container, render) {
  const active = document.activeElement;
  const key = container.contains(active) ? active?.dataset?.key : undefined;
  render();
  if (key && !container.contains(active)) {
    container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  }
}

/** Says `text` to screen readers through the polite live region. */
let announceTimer;
export function announce(text) {
  const region = document.getElementById("announcer");
  // Clearing first and writing a moment later makes repeated identical texts be read again.
  region.textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { region.textContent = text; }, 50);
}

/** A short notice shown (and announced: the toast is a status region) for a few seconds. */
let toastTimer;
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  el.dataset.kind = kind;
  el.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.textContent = ""; }, kind === "error" ? 8000 : 4000);
}

export function initials(name = "?") {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] ?? "?"];
  return letters.map((w) => [...w][0]).join("").toUpperCase();
}

/**
 * An avatar: the picture when there is one, else initials on a colour picked from the id (all
 * eight colours take white text at 4.5:1 or more). Decorative: the name is always next to it.
 * `presence` adds the dot: online, away, offline or undefined (unknown).
 */
export function avatar({ id = "", name = "?", url, presence, size = "md" }) {
  const hue = [...id].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) >>> 0, 7) % 8;
  const letters = () => h("span", { class: `avatar-initials avatar-c${hue}` }, initials(name));
  const face = url ? h("img", { class: "avatar-img", src: mediaUrl(url), alt: "" }) : letters();
  // A link that expired or an image that is gone: initials instead of a broken picture.
  if (url) face.addEventListener("error", () => face.replaceWith(letters()), { once: true });
  return h("span", { class: `avatar avatar-${size}`, "aria-hidden": "true" },
    face, presence && presence !== "offline" ? h("span", { class: `presence-dot presence-${presence}` }) : null);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "14:05" today, "Nov 21" before; with the full date and time for `<time datetime>`. */
export function shortTime(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeFormat.format(date) : dayFormat.format(date);
}
export function timeElement(iso, withDay = false) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  const text = today || !withDay ? timeFormat.format(date) : `${dayFormat.format(date)}, ${timeFormat.format(date)}`;
  return h("time", { datetime: iso, title: fullFormat.format(date) }, text);
}
export function fullTime(iso) { return fullFormat.format(new Date(iso)); }

/** "5 minutes ago", "yesterday"… for last-seen times. */
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
export function ago(iso) {
  const seconds = (new Date(iso) - Date.now()) / 1000;
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

/**
 * Renders a search snippet from GET /search/messages: HTML whose text the server escaped and
 * whose matches are wrapped in <mark>…</mark>. Only those two literal tags are honoured; the text
 * between them is unescaped by hand and inserted as text nodes, never parsed as HTML.
 */
export function snippet(html) {
  const out = document.createDocumentFragment();
  const parts = html.split(/(<mark>|<\/mark>)/);
  let inMark = false;
  for (const part of parts) {
    if (part === "<mark>") { inMark = true; continue; }
    if (part === "</mark>") { inMark = false; continue; }
    if (!part) continue;
    const text = unescapeHTML(part);
    out.append(inMark ? h("mark", {}, text) : document.createTextNode(text));
  }
  return out;
}
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
function unescapeHTML(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** A random id for clientMessageId and frame ids (crypto.randomUUID needs a secure context). */
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export function prefersReducedMotion() {
  return document.documentElement.dataset.motion === "reduce" || matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/**
 * Asks a yes/no question in a modal <dialog> (focus is kept inside it and Escape cancels, for
 * free). Resolves true when confirmed. Used instead of window.confirm(), which cannot be styled
 * or labelled for a destructive action.
 */
export function confirmDialog({ title, message, confirm = "OK", danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${randomId()}`;
    const dialog = h("dialog", { class: "dialog dialog-small", "aria-labelledby": titleId },
      h("form", { method: "dialog" },
        h("h2", { id: titleId, text: title }),
        message ? h("p", { text: message }) : null,
        h("div", { class: "dialog-actions" },
          h("button", { type: "submit", value: "cancel", class: "button" }, "Cancel"),
          h("button", { type: "submit", value: "ok", class: danger ? "button danger" : "button primary" }, confirm))));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(dialog.returnValue === "ok"); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * Shows a field-by-field validation problem next to the inputs of `form` (matched by name) and
 * anything else in its `.form-error` element. Clears earlier errors first.
 */
export function showFormErrors(form, error) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => !id.endsWith("-error")).join(" "));
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = "";
  if (!error) return;
  let unplaced = [];
  for (const fieldError of error.errors ?? []) {
    const input = form.elements.namedItem(fieldError.field);
    if (!(input instanceof HTMLElement)) { unplaced.push(fieldError.detail); continue; }
    const id = `${input.id}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") ?? ""} ${id}`.trim());
    input.closest(".field")?.append(h("p", { class: "field-error", id }, fieldError.detail));
  }
  if (summary) {
    const text = error.errors?.length ? unplaced.join(" ") : error.message;
    summary.textContent = text;
  }
  (form.querySelector("[aria-invalid]") ?? summary)?.focus?.();
}

/**
 * A picture setting (profile picture, group icon): the current picture, a button that picks a
 * file (a hidden file input, id `inputId`), and one that removes the picture when there is one.
 * `pick(file)` and `remove()` do the work; errors are shown as a toast. Returns {el, update}:
 * update({url, name}) shows a new picture, keeping the status line and the focus.
 */
export function pictureSetting({ inputId, label, id, pick, remove }) {
  const status = h("p", { class: "hint", role: "status" });
  const input = h("input", { type: "file", id: inputId, name: inputId, accept: "image/jpeg,image/png,image/gif,image/webp", hidden: true, tabIndex: -1 });
  const face = h("span", {});
  const buttons = h("div", { class: "inline-field" });
  const run = async (work, done) => {
    status.textContent = "Saving…";
    try { await work(); status.textContent = done; } catch (error) { status.textContent = ""; toast(error.message, "error"); }
  };
  input.addEventListener("change", () => {
    const file = input.files[0];
    input.value = "";
    if (file) run(() => pick(file), `${label} updated.`);
  });
  const update = ({ url, name }) => {
    face.replaceChildren(avatar({ id, name, url, size: "lg" }));
    preserveFocus(buttons, () => setChildren(buttons,
      h("button", { type: "button", class: "button small", data: { key: `${inputId}-pick` }, on: { click: () => input.click() } }, url ? "Change" : "Choose a picture"),
      url ? h("button", { type: "button", class: "button small", data: { key: `${inputId}-remove` }, "aria-label": `Remove the ${label.toLowerCase()}`, on: { click: () => run(remove, `${label} removed.`) } }, "Remove") : null));
  };
  const el = h("div", { class: "picture-setting" }, face,
    h("div", { class: "picture-actions" }, h("p", { class: "picture-label" }, label), buttons, input, status));
  return { el, update };
}

/** A labelled input inside a `.field` wrapper. */
export function field({ label, name, type = "text", id = `f-${name}-${randomId().slice(0, 6)}`, hint, ...attrs }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const control = type === "textarea"
    ? h("textarea", { id, name, "aria-describedby": hintId, ...attrs })
    : h("input", { id, name, type, "aria-describedby": hintId, ...attrs });
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control);
}
