"""Web Push from the page: the service worker at `/`, the settings switch that subscribes this
browser, the server encrypting a notification for that subscription, and the worker showing it.

Headless Chromium cannot reach a push service: `pushManager.subscribe()` registers with the
browser vendor's service over the network, and here it never settles (it keeps retrying). So the
one thing stubbed is the PushManager (subscribe, getSubscription, unsubscribe), and only in these
tests: it hands out a subscription whose endpoint is a push service of the test's own on loopback
(the server runs with --allow-loopback-push) and whose keys it makes with WebCrypto. Everything
else is real: the service worker, the permission (granted through DevTools), the page's REST
calls, the server's VAPID-signed aes128gcm push (decrypted here with the stub's keys, RFC 8291),
and a push event delivered to the worker through DevTools (`ServiceWorker.deliverPushMessage`).
"""

import base64
import http.server
import json
import threading
import time
import urllib.request

import pytest
import websocket
from selenium.webdriver.common.by import By

from conftest import free_port

# Replaces the PushManager in the page before it loads (DevTools, so the page's CSP does not
# apply): subscribe() makes a P-256 key pair and an auth secret, and an endpoint at the test's push
# service; the subscription lives in localStorage (`test.push`), as the browser would keep it.
SUBSCRIBE_STUB = r"""
(() => {
  const SERVICE = %s;
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const saved = () => JSON.parse(localStorage.getItem('test.push') || 'null');
  const subscription = (s) => ({
    endpoint: s.endpoint, expirationTime: null,
    options: { userVisibleOnly: s.userVisibleOnly, applicationServerKey: unb64(s.serverKey).buffer },
    getKey: (name) => unb64(s.keys[name]).buffer,
    toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: s.keys }),
    unsubscribe: async () => { localStorage.removeItem('test.push'); return true; },
  });
  PushManager.prototype.getSubscription = async function () { const s = saved(); return s && subscription(s); };
  PushManager.prototype.subscribe = async function (options) {
    if (Notification.permission !== 'granted') throw new DOMException('Registration failed - permission denied', 'NotAllowedError');
    if (saved()) return subscription(saved());
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const s = {
      endpoint: SERVICE + '/push/' + crypto.randomUUID(),
      userVisibleOnly: options.userVisibleOnly,
      serverKey: b64(options.applicationServerKey),
      keys: { p256dh: b64(await crypto.subtle.exportKey('raw', pair.publicKey)), auth: b64(crypto.getRandomValues(new Uint8Array(16))) },
      privateKey: await crypto.subtle.exportKey('jwk', pair.privateKey),
    };
    localStorage.setItem('test.push', JSON.stringify(s));
    return subscription(s);
  };
})();
"""

# Decrypts a push (RFC 8291 on RFC 8188's aes128gcm: salt, record size, the server's key, one
# record) with the stub's keys: what the browser does before the worker's `push` event.
DECRYPT = r"""
const [body64, sub, done] = arguments;
(async () => {
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const join = (...parts) => { const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0; for (const p of parts) { all.set(p, at); at += p.length; } return all; };
  const text = (s) => new TextEncoder().encode(s);
  const hkdf = async (salt, ikm, info, bits) => crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info },
    await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']), bits);
  const body = bytes(body64);
  const salt = body.slice(0, 16), idlen = body[20], serverKey = body.slice(21, 21 + idlen), record = body.slice(21 + idlen);
  const mine = await crypto.subtle.importKey('jwk', sub.privateKey, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const theirs = await crypto.subtle.importKey('raw', serverKey, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: theirs }, mine, 256));
  const ikm = new Uint8Array(await hkdf(bytes(sub.keys.auth), shared, join(text('WebPush: info\0'), bytes(sub.keys.p256dh), serverKey), 256));
  const cek = await hkdf(salt, ikm, text('Content-Encoding: aes128gcm\0'), 128);
  const nonce = await hkdf(salt, ikm, text('Content-Encoding: nonce\0'), 96);
  const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt']);
  const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(nonce) }, key, record));
  let end = plain.length - 1;
  while (plain[end] === 0) end--;  // padding: a 2 (the last record), then zeros
  if (plain[end] !== 2) throw new Error('not a last record');
  return JSON.parse(new TextDecoder().decode(plain.slice(0, end)));
})().then(done, (error) => done({ error: String(error) }));
"""

NOTIFICATIONS = r"""
const done = arguments[0];
navigator.serviceWorker.ready.then((r) => r.getNotifications())
  .then((list) => done(list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }))), (e) => done({ error: String(e) }));
"""


class PushService:
    """A push service on loopback: records what Parley posts to each endpoint, answers 201."""

    def __init__(self):
        self.port = free_port()
        self.received = []  # {path, headers, body}
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait(self, endpoint, timeout=15):
        path = endpoint.removeprefix(self.url)
        deadline = time.time() + timeout
        while time.time() < deadline:
            for push in self.received:
                if push["path"] == path:
                    return push
            time.sleep(0.1)
        raise AssertionError(f"nothing was pushed to {endpoint} within {timeout} s")


@pytest.fixture(scope="session")
def push_service():
    service = PushService()
    yield service
    service.httpd.shutdown()


class DevTools:
    """A DevTools connection of its own to the browser's tab: Selenium's execute_cdp_cmd cannot
    wait for events, and the service worker's registration id comes as one."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        target = driver.execute_cdp_cmd("Target.getTargetInfo", {})["targetInfo"]["targetId"]
        with urllib.request.urlopen(f"http://{address}/json", timeout=5) as answer:
            url = next(t["webSocketDebuggerUrl"] for t in json.load(answer) if t["id"] == target)
        self.ws = websocket.create_connection(url, suppress_origin=True, timeout=10)
        self.events = []
        self.last_id = 0

    def call(self, method, **params):
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def registration_id(self, scope, timeout=10):
        self.call("ServiceWorker.enable")
        deadline = time.time() + timeout
        while time.time() < deadline:
            for event in self.events:
                if event.get("method") == "ServiceWorker.workerRegistrationUpdated":
                    for registration in event["params"]["registrations"]:
                        if registration["scopeURL"] == scope and not registration["isDeleted"]:
                            return registration["registrationId"]
            self.events.append(json.loads(self.ws.recv()))
        raise AssertionError(f"no service worker registration for {scope}")

    def close(self):
        self.ws.close()


def inject(driver, source):
    return driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})["identifier"]


def push_switch_label(page):
    return page.driver.find_element(By.CSS_SELECTOR, "label[for=push-enabled]").text


def test_the_service_worker_is_registered_and_active_at_the_root(alice, api, server):
    me = api.user("sw", "Sam Worker")
    alice.sign_in(me["username"])
    worker = alice.driver.execute_async_script("""
        const done = arguments[0];
        navigator.serviceWorker.ready.then((r) => done({ scope: r.scope, state: r.active.state, script: r.active.scriptURL }), (e) => done({ error: String(e) }));""")
    assert worker == {"scope": f"{server.url}/", "state": "activated", "script": f"{server.url}/sw.js"}, worker
    assert not alice.console_errors()


def test_the_push_switch_subscribes_this_browser_and_the_worker_shows_what_is_pushed(alice, api, server, push_service):
    me = api.user("pia", "Pia Push")
    peer = api.user("pet", "Pete Pusher")
    direct = api.direct(peer, me)
    key = api.call("GET", "/push/vapid-public-key", token=me["token"])["publicKey"]
    driver = alice.driver
    stub = inject(driver, SUBSCRIBE_STUB % json.dumps(push_service.url))
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["notifications"], "origin": server.url})
    devtools = None
    try:
        alice.sign_in(me["username"])
        alice.click("Settings")
        switch = alice.find("#push-enabled")
        assert push_switch_label(alice) == "Push notifications when Parley is closed"
        assert not switch.is_selected()

        # On: subscribed with the server's VAPID key, and the subscription posted to the server.
        switch.click()
        alice.wait(lambda: alice.js("return localStorage.getItem('parley.push')"), message="the page kept no subscription id")
        assert alice.find("#push-enabled").is_selected()
        sub = json.loads(alice.js("return localStorage.getItem('test.push')"))
        assert sub["serverKey"] == key and sub["userVisibleOnly"] is True, sub
        saved = json.loads(alice.js("return localStorage.getItem('parley.push')"))
        assert saved["endpoint"] == sub["endpoint"]
        # (The API lists no subscriptions: posting the same endpoint again finds it, 200 and its id.)
        status, again = api.call_status("POST", "/push/subscriptions", {"endpoint": sub["endpoint"], "keys": sub["keys"]}, me["token"])
        assert status == 200 and again["id"] == saved["id"], (status, again)

        # A direct message: the server pushes it to that endpoint, signed and encrypted for it.
        api.send(peer, direct["id"], "Are you there, Pia?")
        pushed = push_service.wait(sub["endpoint"])
        headers = {k.lower(): v for k, v in pushed["headers"].items()}
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0, headers
        assert headers["authorization"].startswith("vapid t=") and f"k={key}" in headers["authorization"], headers
        payload = driver.execute_async_script(DECRYPT, base64.b64encode(pushed["body"]).decode(), sub)
        notification = api.call("GET", "/notifications", token=me["token"])["items"][0]
        assert payload == {"title": "Pete Pusher", "body": "Are you there, Pia?", "kind": "direct", "notificationId": notification["id"],
                           "conversationId": direct["id"], "url": f"/?conversation={direct['id']}"}, payload

        # The worker: a push while this tab is focused and in view shows nothing (the page does) …
        devtools = DevTools(driver)
        registration = devtools.registration_id(f"{server.url}/")
        deliver = {"origin": server.url, "registrationId": registration, "data": json.dumps(payload)}
        devtools.call("ServiceWorker.deliverPushMessage", **deliver)
        time.sleep(0.5)
        assert driver.execute_async_script(NOTIFICATIONS) == []
        # … and with no tab of Parley open, a notification with its title and body, tagged with its id.
        driver.get("about:blank")
        devtools.call("ServiceWorker.deliverPushMessage", **deliver)
        time.sleep(0.5)
        alice.open()
        alice.wait(lambda: driver.execute_async_script(NOTIFICATIONS), 5, "the worker showed no notification")
        shown = driver.execute_async_script(NOTIFICATIONS)
        assert shown == [{"title": "Pete Pusher", "body": "Are you there, Pia?", "tag": notification["id"], "data": {"url": payload["url"]}}], shown
        driver.execute_async_script("const done = arguments[0]; navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((l) => { l.forEach((n) => n.close()); done(); })")

        # Its link (what a click opens when no tab is) shows the conversation.
        driver.get(f"{server.url}{payload['url']}&test")
        alice.wait(lambda: alice.find(".conversation-name").text == "Pete Pusher")
        assert alice.js("return location.hash") == f"#/c/{direct['id']}"

        # The switch shows what is: still on after a reload; off unsubscribes here and on the server.
        alice.open("/settings")
        alice.wait(lambda: alice.find("#push-enabled").is_selected(), message="the switch did not show the subscription")
        alice.find("#push-enabled").click()
        alice.wait(lambda: alice.js("return localStorage.getItem('parley.push')") is None)
        assert alice.js("return localStorage.getItem('test.push')") is None  # unsubscribed in the browser
        assert not alice.find("#push-enabled").is_selected()
        assert api.call_status("DELETE", f"/push/subscriptions/{saved['id']}", token=me["token"])[0] == 404

        # On again, then signing out: the server forgets this browser before the tokens go.
        alice.find("#push-enabled").click()
        alice.wait(lambda: alice.js("return localStorage.getItem('parley.push')"))
        saved = json.loads(alice.js("return localStorage.getItem('parley.push')"))
        alice.click("Sign out")
        alice.find("form")
        alice.wait(lambda: alice.js("return localStorage.getItem('test.push')") is None)
        assert alice.js("return localStorage.getItem('parley.push')") is None
        assert api.call_status("DELETE", f"/push/subscriptions/{saved['id']}", token=me["token"])[0] == 404
        assert not alice.console_errors()
    finally:
        if devtools:
            devtools.close()
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": stub})
        driver.execute_cdp_cmd("Browser.resetPermissions", {})
        alice.js("localStorage.removeItem('test.push')")


def test_the_push_switch_explains_when_this_browser_cannot(alice, api):
    me = api.user("nop", "Noa NoPush")
    without = inject(alice.driver, "delete window.PushManager;")
    try:
        alice.sign_in(me["username"])
        alice.click("Settings")
        alice.text_appears(".settings-section .hint", "This browser cannot show notifications while Parley is closed.")
        assert not alice.driver.find_elements(By.CSS_SELECTOR, "#push-enabled")
    finally:
        alice.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": without})
