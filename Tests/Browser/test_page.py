"""The page as a whole: narrow screens, another origin (CORS), accessibility (axe-core) and
screenshots in both themes, and what a first load costs."""

import importlib.util
import json
import threading
import time
from pathlib import Path

import pytest
import websocket
from selenium.webdriver.common.by import By

from conftest import PUBLIC, RESULTS, ROOT, SCREENSHOTS, set_viewport, unique


def test_narrow_viewport_list_then_conversation_then_back(alice, api):
    me = api.user("nar", "Nora Narrow")
    other = api.user("wid", "Walt Wide")
    conversation = api.direct(other, me)
    api.send(other, conversation["id"], "Hello on a small screen")
    set_viewport(alice.driver, 390, 844, mobile=True)
    alice.sign_in(me["username"])

    sidebar, pane = ".sidebar", "main.pane"
    assert alice.find(sidebar).is_displayed()
    assert not alice.driver.find_element(By.CSS_SELECTOR, pane).is_displayed()
    alice.open_conversation("Walt Wide")
    alice.wait_message("Hello on a small screen")
    assert not alice.driver.find_element(By.CSS_SELECTOR, sidebar).is_displayed()
    assert alice.js("return document.documentElement.scrollWidth") <= 390

    alice.send("Replying from my phone")
    SCREENSHOTS.mkdir(exist_ok=True)
    alice.driver.save_screenshot(str(SCREENSHOTS / "narrow-conversation-light.png"))
    alice.click("Back to chats")
    alice.wait(lambda: alice.driver.find_element(By.CSS_SELECTOR, sidebar).is_displayed())
    assert not alice.driver.find_element(By.CSS_SELECTOR, pane).is_displayed()
    alice.text_appears(".conversation-item", "You: Replying from my phone")
    assert alice.js("return document.documentElement.scrollWidth") <= 390


def test_page_on_another_origin_uses_the_api_through_cors(alice, api, server, static_site):
    friend = api.user("cors", "Cora Cross")
    # The page comes from the static site; the API and the socket from the server, which allows
    # that origin (--cors-origins).
    assert static_site.url != server.url
    username = unique("far")
    alice.fresh(origin=static_site.url)
    alice.click("Create an account")
    form = alice.find("form")
    alice.fill(form, {"username": username, "email": f"{username}@example.com", "password": "far away passphrase"})
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    alice.wait_connected()
    assert alice.driver.current_url.startswith(static_site.url)
    alice.find("#global-search").send_keys(friend["username"])
    alice.click(f"Message {friend['displayName']}")
    alice.send("Hello across origins")
    history = api.call("GET", f"/conversations/{alice.js('return window.parleyTest.store.state.openId')}/messages", token=friend["token"])
    assert [m["body"] for m in history["items"]] == ["Hello across origins"]
    assert not alice.console_errors()


def axe_engines():
    """axe-core builds at hand: the one axe-selenium-python bundles (3.1) and, when installed, the
    newer one axe-playwright-python ships (its file only; installed without Playwright)."""
    engines = []
    for module in ("axe_selenium_python", "axe_playwright_python"):
        spec = importlib.util.find_spec(module)  # found, not imported: the second needs no Playwright
        if spec is None:
            continue
        folder = Path(spec.origin).parent
        for candidate in (folder / "node_modules" / "axe-core" / "axe.min.js", folder / "axe.min.js"):
            if candidate.exists():
                engines.append(candidate)
    assert engines, "no axe-core found: install axe-selenium-python"
    return engines


def run_axe(page, engine):
    page.js(engine.read_text(encoding="utf-8"))
    version = page.js("return axe.version")
    tags = ["wcag2a", "wcag2aa", "best-practice"] + ([] if version.startswith("3.") else ["wcag21a", "wcag21aa"])  # 3.x predates the 2.1 tags
    result = page.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: arguments[0]}})
          .then((r) => done({violations: r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                                                    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}))}),
                (e) => done({error: String(e)}));""", tags)
    assert "error" not in result, result
    return version, result["violations"]


class Online:
    """A realtime connection outside the browser, so that the page sees its user online."""

    def __init__(self, server, user):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/api/v1/realtime", timeout=5)
        self.ws.send(json.dumps({"type": "auth", "token": user["token"]}))
        self.ws.recv()
        self.stop = threading.Event()
        threading.Thread(target=self.drain, daemon=True).start()

    def drain(self):
        while not self.stop.is_set():
            try:
                self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return

    def step_away_and_back(self):
        """A page learns presence only from changes after it connected (the server sends no
        snapshot): this user steps away and back, two changes the page sees. One connection for
        the whole test, since a user's presence is the best of their connections (one closed a
        moment ago still counts during its grace period)."""
        self.ws.send(json.dumps({"type": "presence", "status": "away"}))
        time.sleep(0.2)
        self.ws.send(json.dumps({"type": "presence", "status": "online"}))

    def close(self):
        self.stop.set()
        self.ws.close()


def test_accessibility_and_screenshots_in_both_themes(alice, api, server, request):
    me = api.user("alice", "Alice Liddell")
    hatter = api.user("hatter", "The Hatter")
    rabbit = api.user("rabbit", "White Rabbit")
    direct = api.direct(hatter, me)
    first = api.send(hatter, direct["id"], "Have some wine.")
    mine = api.send(me, direct["id"], "I don't see any wine.", reply_to=first["id"])
    api.call("PUT", f"/messages/{mine['id']}/reactions/%F0%9F%98%82", token=hatter["token"])
    api.send(hatter, direct["id"], "There isn't any.")
    api.send(me, direct["id"], "Then it wasn't very civil of you to offer it.")
    api.call("POST", f"/conversations/{direct['id']}/read", {"seq": 99}, hatter["token"])
    api.send(hatter, direct["id"], "Your hair wants cutting. Here is how it looks from where I sit:",
             images=[ROOT / "Tests" / "Fixtures" / "images" / "photo-exif-gps.jpg"])
    group = api.call("POST", "/groups", {"title": "Tea party", "memberIds": [hatter["id"], rabbit["id"]]}, me["token"])
    api.send(rabbit, group["id"], "I'm late!")
    api.send(rabbit, group["id"], f"@{me['username']}, have you seen the Duchess?")
    # The conversation has a theme of its own: its accent and wallpaper must keep AA contrast too.
    api.call("PUT", f"/conversations/{direct['id']}/theme", {"name": "sunset", "wallpaper": "waves"}, hatter["token"])

    SCREENSHOTS.mkdir(exist_ok=True)
    engines = axe_engines()
    hatter_online = Online(server, hatter)
    request.addfinalizer(hatter_online.close)
    report = {}
    failures = []
    for theme in ("light", "dark"):
        # The theme follows the user (the server keeps it); this browser remembers the last one
        # it knew for the sign-in screen.
        api.call("PATCH", "/me/preferences", {"appearance": {"theme": theme}}, me["token"])
        alice.fresh()
        alice.js("localStorage.setItem('parley.appearance', JSON.stringify({theme: arguments[0]}))", theme)
        alice.open()
        assert alice.js("return document.documentElement.dataset.theme") == theme
        screens = {}
        alice.find("form")
        screens["sign-in"] = None
        shoot_and_check(alice, engines, theme, "sign-in", report, failures)

        form = alice.find("form")
        alice.fill(form, {"login": me["username"], "password": me["password"]})
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        alice.wait_connected()
        hatter_online.step_away_and_back()  # the Hatter comes online: a presence dot
        alice.wait(lambda: alice.driver.find_elements(By.CSS_SELECTOR, ".presence-online"), 5)
        alice.find(".conversation-item .badge")
        shoot_and_check(alice, engines, theme, "conversations", report, failures)

        alice.open_conversation("The Hatter")
        alice.wait(lambda: alice.js("const i = document.querySelector('.message-list .attachment-img'); return i && i.complete && i.naturalWidth > 0"))
        alice.wait(lambda: alice.driver.find_elements(By.CSS_SELECTOR, ".reply-quote") and alice.driver.find_elements(By.CSS_SELECTOR, ".reaction"))
        alice.wait(lambda: alice.js("return document.querySelector('.conversation').dataset.chatTheme") == "sunset")
        alice.composer().send_keys("Who's making personal remarks now?")
        shoot_and_check(alice, engines, theme, "conversation", report, failures)

        # The conversation's settings: notifications, mute, its look.
        alice.click("Details")
        alice.find("dialog[open] .mute-choices")
        shoot_and_check(alice, engines, theme, "conversation-settings", report, failures)
        alice.click("Close", within=alice.find("dialog[open]"))

        # The inbox, with read and unread notifications.
        # (The Hatter's messages were read with the conversation; the Rabbit's mention was not.)
        alice.click("Notifications, 1 unread")
        alice.wait(lambda: len(alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item")) == 4)
        assert len(alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item.unread")) == 1
        shoot_and_check(alice, engines, theme, "inbox", report, failures)
        alice.click("Close notifications")

        alice.click("Settings")
        alice.find(".session")
        shoot_and_check(alice, engines, theme, "settings", report, failures)

    # Switching the theme in the settings applies at once, and sticks.
    light = alice.find("#pref-appearance-theme-light")
    light.click()
    alice.wait(lambda: alice.js("return document.documentElement.dataset.theme") == "light")
    alice.driver.refresh()
    alice.wait(lambda: alice.js("return document.documentElement.dataset.theme") == "light")

    RESULTS["axe"] = report
    assert not failures, "serious or critical axe violations:\n" + json.dumps(failures, indent=1, ensure_ascii=False)


def shoot_and_check(page, engines, theme, screen, report, failures):
    page.js("document.activeElement?.blur?.()")
    time.sleep(0.15)  # let transitions settle before the picture
    page.driver.save_screenshot(str(SCREENSHOTS / f"{screen}-{theme}.png"))
    for engine in engines:
        version, violations = run_axe(page, engine)
        report[f"axe {version} {screen} {theme}"] = [f"{v['id']} ({v['impact']})" for v in violations] or "no violations"
        failures += [{"axe": version, "screen": screen, "theme": theme, **v} for v in violations if v["impact"] in ("serious", "critical")]


def test_first_load_cost(alice, api, server):
    user = api.user("perf", "Pia Performance")
    other = api.user("peer", "Pete Peer")
    conversation = api.direct(other, user)
    for n in range(20):
        api.send(other, conversation["id"], f"Message number {n}")
    driver = alice.driver

    def cold_load(url):
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        driver.get(url)
        alice.wait(lambda: alice.js("return performance.getEntriesByName('parley:first-render').length"), 15)

    def entries():
        return alice.js("""
            const nav = performance.getEntriesByType('navigation')[0];
            const resources = performance.getEntriesByType('resource');
            const page = resources.filter((r) => !r.name.includes('/api/v1/'));
            const apiCalls = resources.filter((r) => r.name.includes('/api/v1/'));
            const sum = (list, key) => list.reduce((s, r) => s + (r[key] || 0), 0);
            const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
            return {files: 1 + page.length, pageTransfer: nav.transferSize + sum(page, 'transferSize'),
                    pageBody: nav.encodedBodySize + sum(page, 'encodedBodySize'),
                    apiCalls: apiCalls.length, apiTransfer: sum(apiCalls, 'transferSize'),
                    firstRender: mark('parley:first-render'), hello: mark('parley:hello'), live: mark('parley:live'),
                    domContentLoaded: nav.domContentLoadedEventEnd};""")

    # Signed out: the sign-in screen.
    alice.fresh()
    cold_load(f"{server.url}/")
    signed_out = entries()
    # Signed in: the conversation list, then the live connection.
    alice.sign_in(user["username"])
    cold_load(f"{server.url}/")
    alice.wait(lambda: alice.js("return performance.getEntriesByName('parley:live').length"), 15)
    alice.find(".conversation-item")
    signed_in = entries()

    # The page alone: not its screenshots and README (not served) nor the API docs under docs/.
    served = [f for f in PUBLIC.rglob("*") if f.is_file() and not {"screenshots", "docs"} & set(f.relative_to(PUBLIC).parts)
              and f.name != "README.md"]
    RESULTS["page source (Public/, as served)"] = {
        "files": len(served), "lines": sum(len(f.read_text(errors="replace").splitlines()) for f in served),
        "bytes": sum(f.stat().st_size for f in served)}
    RESULTS["first load, signed out (sign-in screen)"] = {
        "files": signed_out["files"], "bytes over the wire": signed_out["pageTransfer"], "body bytes": signed_out["pageBody"],
        "first render ms": round(signed_out["firstRender"]), "DOMContentLoaded ms": round(signed_out["domContentLoaded"])}
    RESULTS["first load, signed in (conversation list)"] = {
        "page bytes over the wire": signed_in["pageTransfer"], "API calls": signed_in["apiCalls"], "API bytes": signed_in["apiTransfer"],
        "first render ms": round(signed_in["firstRender"]), "hello ms": round(signed_in["hello"]),
        "live connection ms": round(signed_in["live"])}
    # Generous bounds: a regression of an order of magnitude fails.
    assert signed_out["pageTransfer"] < 350_000
    assert signed_out["firstRender"] < 3000 and signed_in["firstRender"] < 3000 and signed_in["live"] < 5000


def test_keyboard_only_reply_and_reaction(alice, api):
    me = api.user("key", "Kim Keys")
    other = api.user("mou", "Moe Mouse")
    conversation = api.direct(other, me)
    api.send(other, conversation["id"], "Can you reach me without a mouse?")
    alice.sign_in(me["username"])
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def keys(*sequence):
        ActionChains(alice.driver).send_keys(*sequence).perform()

    def back():
        ActionChains(alice.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()

    def focused():
        return alice.js("const e = document.activeElement; return [e.tagName, e.textContent.trim(), getComputedStyle(e).outlineStyle, "
                        "e.closest('.message-actions') ? getComputedStyle(e.closest('.message-actions')).opacity : null]")

    # The skip link is the first stop, and leads to the main content.
    alice.js("document.activeElement?.blur?.(); document.body.focus()")
    keys(Keys.TAB)
    assert focused()[:2] == ["A", "Skip to content"]
    # From the search box, Tab reaches the conversation; Enter opens it, focus lands in the composer.
    alice.find("#global-search").click()
    for _ in range(10):
        keys(Keys.TAB)
        if alice.js("return document.activeElement.classList.contains('conversation-item')"):
            break
    assert "Moe Mouse" in alice.js("return document.activeElement.textContent")
    keys(Keys.ENTER)
    alice.wait(lambda: alice.js("return document.activeElement.id") == "composer", message="the composer did not take the focus")
    # (Once the history is there, as a person would wait to see it: before, there is nothing to go back to.)
    alice.wait_message("Can you reach me without a mouse?")
    alice.wait(lambda: alice.js("return window.parleyTest.store.state.members.has(window.parleyTest.store.state.openId)"))

    # Back from the composer: the attach button, then the last message's actions, shown with a
    # visible focus ring although they are hidden until then.
    back()
    assert focused()[:2] == ["BUTTON", "＋"]
    back()
    tag, text, outline, toolbar = focused()
    assert (tag, text) == ("BUTTON", "Reply") and outline != "none" and toolbar == "1", (tag, text, outline, toolbar)
    keys(Keys.ENTER)
    alice.text_appears(".composer-context", "Replying to Moe Mouse")
    assert alice.js("return document.activeElement.id") == "composer"
    keys("Yes I can", Keys.ENTER)
    alice.wait(lambda: alice.message("Yes I can", own=True, sent=True))
    assert "Can you reach me" in alice.message("Yes I can").find_element(By.CSS_SELECTOR, ".reply-quote").text

    # A reaction by keyboard: to the other's message, React opens the picker, arrows are not
    # needed — Tab to a choice, Enter.
    alice.composer().click()
    for _ in range(12):
        back()
        if focused()[1] == "React" and alice.js("return document.activeElement.closest('li.message').textContent").startswith("Moe Mouse"):
            break
    assert focused()[1] == "React"
    keys(Keys.ENTER)
    assert alice.js("return document.activeElement.getAttribute('aria-label')") == "React with thumbs up"
    keys(Keys.ENTER)
    alice.wait(lambda: "👍 1" in alice.message("Can you reach me without a mouse?").text, message="the reaction did not land")
