// Alerts for new notifications while Parley is open: a system notification (the Notification
// API) when no tab of Parley is in view, and a short sound. Each tab receives every event, so one
// tab alerts for all — the one holding the "parley.alerts" Web Lock (the next tab takes it over
// when that one closes). Before alerting it asks the other tabs, over a BroadcastChannel, whether
// one of them is in view (and which conversation it shows).
//
// When: a `mention`, `reply` or `direct` notification, arrived live (not replayed after a
// reconnect), outside quiet hours (notifications.quietHours), in a conversation that is neither
// muted nor set to `none`. System notifications also need the `desktop` preference and the
// browser's permission (asked for in the settings); the sound needs the `sound` preference, and
// is not played for the conversation a tab in view shows.
import { state, userName, isMuted, loadConversationPrefs } from "./store.js";
import { preference } from "./preferences.js";
import { randomId } from "./dom.js";

const ALERT_KINDS = new Set(["mention", "reply", "direct"]);
const tab = randomId();
let leader = false;
let release = null;
let channel = null;
let running = false;
const answers = new Map(); // question id → [{visible, openId}]

const here = () => ({ visible: document.visibilityState === "visible", openId: state.openId });

export function startAlerts() {
  if (running) return;
  running = true;
  if ("BroadcastChannel" in globalThis) {
    channel = new BroadcastChannel("parley.tabs");
    channel.onmessage = ({ data }) => {
      if (data?.type === "where" && data.tab !== tab) channel.postMessage({ type: "here", to: data.tab, question: data.question, ...here() });
      else if (data?.type === "here" && data.to === tab) answers.get(data.question)?.push(data);
    };
  }
  if (navigator.locks) {
    navigator.locks.request("parley.alerts", () => running ? new Promise((resolve) => { leader = true; release = resolve; }) : undefined).catch(() => {});
  } else {
    leader = true; // without Web Locks each tab alerts; the notification's tag still shows it once
  }
}

export function stopAlerts() {
  running = false;
  leader = false;
  release?.();
  release = null;
  channel?.close();
  channel = null;
}

/** What the other tabs show: asked and answered over the channel, within 150 ms. */
async function otherTabs() {
  if (!channel) return [];
  const question = randomId();
  answers.set(question, []);
  channel.postMessage({ type: "where", tab, question });
  await new Promise((resolve) => setTimeout(resolve, 150));
  const result = answers.get(question);
  answers.delete(question);
  return result;
}

/** Whether `HH:MM` now, in the quiet hours' time zone, falls between start and end. */
export function inQuietHours(quiet, now = new Date()) {
  if (!quiet?.enabled) return false;
  let clock;
  try {
    clock = new Intl.DateTimeFormat("en-GB", { timeZone: quiet.timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(now);
  } catch {
    return false; // a time zone this browser does not know
  }
  const { start, end } = quiet;
  return start <= end ? clock >= start && clock < end : clock >= start || clock < end;
}

/** The conversation's settings: as known here (events keep them current), else fetched now. */
async function conversationSettings(id) {
  return state.conversationPrefs.get(id) ?? loadConversationPrefs(id).catch(() => null);
}

export async function alert(notification) {
  if (!leader || !ALERT_KINDS.has(notification.kind)) return;
  const desktop = preference("notifications", "desktop") && "Notification" in globalThis && Notification.permission === "granted";
  const sound = preference("notifications", "sound");
  if ((!desktop && !sound) || inQuietHours(preference("notifications", "quietHours"))) return;
  const [settings, others] = await Promise.all([conversationSettings(notification.conversationId), otherTabs()]);
  if (isMuted(settings)) return;
  const tabs = [here(), ...others];
  const inView = tabs.filter((t) => t.visible);
  if (desktop && !inView.length) show(notification);
  if (sound && !inView.some((t) => t.openId === notification.conversationId)) chime();
}

function show(n) {
  const conversation = state.conversations.get(n.conversationId);
  const who = n.actor?.displayName ?? userName(n.actor?.id);
  const where = conversation && conversation.kind === "group" ? ` in ${conversation.title}` : "";
  const title = n.kind === "mention" ? `${who} mentioned you${where}` : n.kind === "reply" ? `${who} replied to you${where}` : who;
  try {
    // Tagged with the notification's id, as sw.js tags the same notification pushed: shown once.
    const shown = new Notification(title, { body: n.excerpt ?? "", tag: n.id, icon: "/favicon.svg" });
    shown.onclick = () => {
      window.focus();
      location.hash = `#/c/${n.conversationId}`;
      shown.close();
    };
  } catch {
    /* Some browsers only show notifications from a service worker: nothing to do then. */
  }
}

// A short two-note chime, made with Web Audio (no sound file to fetch). Browsers let a page play
// sound only after the person interacted with it: the context is created at the first click.
let audio = null;
function unlockAudio() {
  if (audio || !globalThis.AudioContext) return;
  try { audio = new AudioContext(); } catch { audio = null; }
}
addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
addEventListener("keydown", unlockAudio, { once: true, capture: true });

function chime() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  for (const [offset, frequency] of [[0, 880], [0.12, 1175]]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.15, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.25);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.3);
  }
}

/** The browser's permission for system notifications: "granted", "denied", "default" or "unsupported". */
export function permission() {
  return "Notification" in globalThis ? Notification.permission : "unsupported";
}
export async function askPermission() {
  if (!("Notification" in globalThis)) return "unsupported";
  return Notification.requestPermission();
}
