// Web Push: notifications while Parley is closed. The service worker (/sw.js) shows them; this
// module registers it, and subscribes this browser with the server's VAPID key when the switch in
// the settings is turned on. The server knows the subscription by an id, kept in this browser
// (`parley.push`, with the endpoint and the user) to delete it again when the switch goes off or
// the person signs out. A session that ends otherwise (revoked, expired) unsubscribes the browser
// too, so that a signed-out browser shows nobody's messages; the server forgets such an endpoint
// the next time the push service refuses it.
import * as api from "./api.js";
import * as session from "./session.js";

const KEY = "parley.push";

export const supported = () => "serviceWorker" in navigator && "PushManager" in globalThis && "Notification" in globalThis;

let registering = null;
/** Registers the service worker once per page (the browser keeps it up to date). */
export function registerWorker() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  registering ??= navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null);
  return registering;
}

function remembered() {
  try { return JSON.parse(localStorage.getItem(KEY)) ?? null; } catch { return null; }
}

const toBytes = (base64url) => Uint8Array.from(atob(base64url.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * This browser, for the signed-in person: "unsupported" (no service worker or Push API),
 * "unavailable" (the server sends no pushes), "on" or "off".
 */
export async function pushState() {
  if (!supported()) return "unsupported";
  try {
    await api.getVapidPublicKey();
  } catch (error) {
    if (error.status === 404 || error.status === 501 || error.status === 503) return "unavailable";
    throw error;
  }
  const subscription = await currentSubscription();
  const mine = remembered();
  return subscription && mine?.endpoint === subscription.endpoint && mine.userId === session.current()?.userId ? "on" : "off";
}

/** Asks for the permission, subscribes this browser and tells the server. */
export async function enablePush() {
  if (await Notification.requestPermission() !== "granted") {
    throw new Error("this browser does not allow Parley's notifications (see its site settings).");
  }
  const key = toBytes((await api.getVapidPublicKey()).publicKey);
  registerWorker();
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  // Subscribed with another key (the server's was replaced): that one no longer works.
  if (subscription && new Uint8Array(subscription.options.applicationServerKey ?? []).join() !== key.join()) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const { endpoint, keys } = subscription.toJSON();
  const saved = await api.subscribeToPush({ endpoint, keys });
  localStorage.setItem(KEY, JSON.stringify({ id: saved.id, endpoint, userId: session.current()?.userId }));
}

/** Tells the server to stop (while signed in), then unsubscribes this browser. */
export async function disablePush() {
  const mine = remembered();
  if (mine && mine.userId === session.current()?.userId) {
    await api.unsubscribeFromPush(mine.id).catch((error) => { if (error.status !== 404) throw error; });
  }
  await unsubscribeHere();
}

/** Unsubscribes this browser only: for a session that has ended (no token to tell the server). */
export async function unsubscribeHere() {
  localStorage.removeItem(KEY);
  if (supported()) await (await currentSubscription())?.unsubscribe();
}
