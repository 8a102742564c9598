// Parley's service worker: Web Push while no tab of Parley is in front. A classic script with no
// imports, registered by lib/push.js at scope `/`; it handles no fetches (the page works without it).
//
// A push carries a PushPayload (openapi.yaml): {title, body, kind, notificationId, conversationId,
// url}. It is shown as a system notification tagged with the notification's id — the tag the open
// page uses too (lib/alerts.js), so one notification never shows twice — unless a tab of Parley
// is focused and in view: that tab shows it already (the bell, a sound).

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// The tabs of the page itself (the app lives at `/`; other pages of this origin do not count).
const pageTabs = async () => (await self.clients.matchAll({ type: "window", includeUncontrolled: true }))
  .filter((client) => new URL(client.url).pathname === "/");

self.addEventListener("push", (event) => {
  event.waitUntil((async () => {
    let payload = {};
    try { payload = event.data?.json() ?? {}; } catch { /* not JSON: show the bare title */ }
    if ((await pageTabs()).some((client) => client.focused && client.visibilityState === "visible")) return;
    await self.registration.showNotification(payload.title || "Parley", {
      body: payload.body ?? "",
      tag: payload.notificationId,
      icon: "/favicon.svg",
      data: { url: payload.url ?? "/" },
    });
  })());
});

// A click: the first tab of Parley comes to the front and opens the conversation (the page
// listens for this message, see app.js); without one, a new tab opens the link.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? "/", self.location.origin).href;
  event.waitUntil((async () => {
    const [tab] = await pageTabs();
    if (!tab) return self.clients.openWindow(url);
    tab.postMessage({ type: "parley.open", url });
    return tab.focus();
  })());
});
