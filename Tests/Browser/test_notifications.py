"""Mentions, the notification inbox, system notifications, per-conversation settings, conversation
themes and preferences that follow the user — live, between people, tabs and devices."""

import re
import time
from datetime import datetime, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

# Injected into a tab before its page loads (Chrome DevTools, so the page's CSP does not apply):
# `test.hidden` in localStorage makes the page believe it is not in view, and the Notification API
# is replaced by one that records each notification under a key of its own (so that two tabs
# writing at once cannot hide one another's).
ALERT_STUB = r"""
(() => {
  const hidden = () => { try { return localStorage.getItem('test.hidden') === '1'; } catch (e) { return false; } };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return hidden() ? 'hidden' : 'visible'; } });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: hidden });
  class RecordedNotification {
    constructor(title, options = {}) {
      localStorage.setItem('test.alert.' + Math.random().toString(36).slice(2), JSON.stringify({ title, body: options.body, tag: options.tag }));
    }
    close() {}
  }
  RecordedNotification.permission = 'granted';
  RecordedNotification.requestPermission = async () => 'granted';
  window.Notification = RecordedNotification;
})();
"""

# Records, when <body> appears (boot.js has run, the modules have not), what <html> carries.
FIRST_PAINT = r"""
new MutationObserver((_, observer) => {
  if (!document.body) return;
  const root = document.documentElement;
  window.firstPaint = { theme: root.dataset.theme, density: root.dataset.density, fontSize: root.style.fontSize,
                        accent: root.style.getPropertyValue('--accent') };
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""


def click_css(page, css):
    """Finds and clicks in one go (again if a re-render made the element stale)."""
    def attempt():
        page.driver.find_element(By.CSS_SELECTOR, css).click()
        return True
    page.wait(attempt, 10, f"could not click {css}")


def choose(page, css, value):
    """Picks an option of a <select>, found afresh (a dialog may have been re-rendered)."""
    def attempt():
        Select(page.driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)
        return True
    page.wait(attempt, 10, f"could not choose {value!r} in {css}")


def bell(page):
    return page.find("#inbox-button").get_attribute("aria-label")


def inject(driver, source):
    return driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})["identifier"]


def recorded_alerts(page):
    return page.js("return Object.keys(localStorage).filter((k) => k.startsWith('test.alert.')).map((k) => JSON.parse(localStorage.getItem(k)))")


def rgb(css):
    return [int(x) for x in re.findall(r"\d+", css)[:3]]


def contrast(a, b):
    def luminance(color):
        channels = [c / 255 for c in color]
        r, g, b_ = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def send_button_colours(page):
    return page.js("const s = getComputedStyle(document.querySelector('.composer button[type=submit]')); return [s.backgroundColor, s.color]")


def test_a_mention_reaches_bell_and_list_live_in_two_tabs_alerting_once(alice, bob, api):
    me = api.user("mona", "Mona Mention")
    fred = api.user("fred", "Fred Friend")
    group = api.call("POST", "/groups", {"title": "Book club", "memberIds": [me["id"]]}, fred["token"])
    api.send(fred, group["id"], "Welcome to the club")
    api.call("POST", "/notifications/read", {"before": "2100-01-01T00:00:00Z"}, me["token"])  # being added: read

    driver = alice.driver
    first = driver.current_window_handle
    stubs = [inject(driver, ALERT_STUB)]
    try:
        alice.sign_in(me["username"])
        alice.find(".conversation-item")
        assert bell(alice) == "Notifications"
        # A second tab of the same browser: the same person, a connection of its own.
        driver.switch_to.new_window("tab")
        second = driver.current_window_handle
        stubs.append(inject(driver, ALERT_STUB))
        alice.open()
        alice.wait_connected()
        # Neither tab is in view from here on: a mention raises one system notification, not two.
        alice.js("localStorage.setItem('test.hidden', '1')")

        # Fred mentions Mona, picking her from the `@` list.
        bob.sign_in(fred["username"])
        bob.open_conversation("Book club")
        bob.wait_message("Welcome to the club")
        bob.wait(lambda: bob.js("return window.parleyTest.store.state.members.get(arguments[0])?.size === 2", group["id"]))
        bob.composer().send_keys("@" + me["username"][:6])
        assert me["username"] in bob.find(".mention-option[aria-selected=true]").text
        bob.composer().send_keys(Keys.TAB)
        assert bob.composer().get_attribute("value") == f"@{me['username']} "
        bob.composer().send_keys("are you coming tonight?" + Keys.ENTER)
        text = f"@{me['username']} are you coming tonight?"
        bob.wait(lambda: bob.message(text, own=True, sent=True), message="the mention was not sent")
        assert bob.message(text).find_element(By.CSS_SELECTOR, ".mention").text == f"@{me['username']}"

        # Both tabs show it on the bell and in the list, live.
        for handle in (second, first):
            driver.switch_to.window(handle)
            alice.wait(lambda: bell(alice) == "Notifications, 1 unread", message="the bell did not count the mention")
            assert alice.find("#inbox-button .inbox-count").text == "1"
            alice.wait(lambda: alice.find(".conversation-item .mention-badge"), message="no @ badge in the list")
        alice.wait(lambda: recorded_alerts(alice), 5, "no system notification")
        time.sleep(0.6)  # time enough for a second tab to show one too, were it to
        shown = recorded_alerts(alice)
        assert len(shown) == 1, shown
        assert shown[0]["title"] == "Fred Friend mentioned you in Book club" and shown[0]["body"] == text, shown

        # In view again: the inbox lists it; a click opens the conversation, which reads it.
        alice.js("localStorage.removeItem('test.hidden')")
        alice.click("Notifications, 1 unread")
        item = alice.find("#inbox-panel .notification-item.unread")
        assert "Fred Friend mentioned you in Book club" in item.text and "are you coming tonight?" in item.text
        click_css(alice, "#inbox-panel .notification-item.unread")
        alice.wait(lambda: alice.find(".conversation-name").text == "Book club")
        mention = alice.wait(lambda: alice.message(text).find_element(By.CSS_SELECTOR, ".mention-me"))
        assert mention.text == f"@{me['username']}"
        alice.wait(lambda: bell(alice) == "Notifications", message="the bell kept its count")
        alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, ".conversation-item .mention-badge"))
        assert not alice.find_hidden("#inbox-button .inbox-count").is_displayed()
        driver.switch_to.window(second)
        alice.wait(lambda: bell(alice) == "Notifications", message="the other tab kept its count")
        alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, ".conversation-item .mention-badge"))

        # Another mention while both tabs show the list: each counts it once …
        driver.switch_to.window(first)
        alice.click("Chats")
        api.send(fred, group["id"], f"Bring the book, @{me['username']}.")
        for handle in (first, second):
            driver.switch_to.window(handle)
            alice.wait(lambda: bell(alice) == "Notifications, 1 unread")
        time.sleep(0.5)
        for handle in (first, second):
            driver.switch_to.window(handle)
            assert bell(alice) == "Notifications, 1 unread"
            assert alice.js("return window.parleyTest.store.state.inbox.unreadCount") == 1
        # … and reading it in the second tab clears both, once (never below zero).
        alice.click("Notifications, 1 unread")
        click_css(alice, "#inbox-panel .notification-item.unread")
        alice.wait(lambda: bell(alice) == "Notifications")
        driver.switch_to.window(first)
        alice.wait(lambda: bell(alice) == "Notifications", message="the first tab did not follow")
        assert alice.js("return window.parleyTest.store.state.inbox.unreadCount") == 0
        # Parley was in view that time: no system notification.
        assert len(recorded_alerts(alice)) == 1
        assert not alice.console_errors() and not bob.console_errors()
    finally:
        for handle in driver.window_handles:
            if handle != first:
                driver.switch_to.window(handle)
                driver.close()
        driver.switch_to.window(first)
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": stubs[0]})
        alice.js("for (const k of Object.keys(localStorage)) if (k.startsWith('test.')) localStorage.removeItem(k)")


def test_inbox_lists_each_kind_and_marks_all_read(alice, api):
    me = api.user("ina", "Ina Inbox")
    fran = api.user("fra", "Fran Friend")
    dora = api.user("dor", "Dora Direct")
    group = api.call("POST", "/groups", {"title": "Garden", "memberIds": [me["id"]]}, fran["token"])  # added_to_group
    mine = api.send(me, group["id"], "Who waters the roses?")
    api.send(fran, group["id"], "I will", reply_to=mine["id"])                                       # reply
    api.send(fran, group["id"], f"And you the tulips, @{me['username']}")                           # mention
    api.send(fran, group["id"], "A plain message in a group tells nobody")
    direct = api.direct(dora, me)
    api.send(dora, direct["id"], "Hello from Dora")                                                   # direct

    alice.sign_in(me["username"])
    alice.click("Notifications, 4 unread")
    alice.wait(lambda: len(alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item.unread")) == 4)
    texts = [item.text for item in alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item")]
    assert "Dora Direct wrote to you" in texts[0] and "Hello from Dora" in texts[0], texts
    assert "Fran Friend mentioned you in Garden" in texts[1] and "And you the tulips" in texts[1], texts
    assert "Fran Friend replied to you in Garden" in texts[2] and "I will" in texts[2], texts
    assert "Fran Friend added you to Garden" in texts[3], texts

    alice.click("Mark all read")
    alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item.unread"))
    alice.wait(lambda: bell(alice) == "Notifications")
    assert len(alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item")) == 4
    assert api.call("GET", "/notifications?unread=true", token=me["token"])["unreadCount"] == 0

    # A new one arrives live: on top, unread, counted.
    api.send(dora, direct["id"], "Still there?")
    alice.wait(lambda: bell(alice) == "Notifications, 1 unread")
    newest = "#inbox-panel .inbox-list > li:first-child .notification-item.unread"
    alice.wait(lambda: "Still there?" in alice.driver.find_element(By.CSS_SELECTOR, newest).text)
    assert len(alice.driver.find_elements(By.CSS_SELECTOR, "#inbox-panel .notification-item")) == 5
    # Escape closes the panel and gives the focus back to the bell.
    alice.driver.find_element(By.CSS_SELECTOR, newest).send_keys(Keys.ESCAPE)
    alice.wait(lambda: not alice.find_hidden("#inbox-panel").is_displayed())
    assert alice.js("return document.activeElement.id") == "inbox-button"
    assert not alice.console_errors()


def test_a_muted_direct_conversation_lets_only_mentions_reach_the_bell(alice, api):
    me = api.user("qui", "Quinn Quiet")
    peer = api.user("cha", "Chad Chatty")
    direct = api.direct(peer, me)
    api.send(peer, direct["id"], "First message")

    alice.sign_in(me["username"])
    alice.wait(lambda: bell(alice) == "Notifications, 1 unread")  # a direct message counts by default
    alice.open_conversation("Chad Chatty")
    alice.wait(lambda: bell(alice) == "Notifications")            # reading the conversation reads it
    alice.click("Details")
    dialog = alice.find("dialog[open]")
    alice.click("Mute for 8 hours", within=dialog)
    alice.text_appears("dialog[open] .mute-status", "Muted until")
    muted_until = api.call("GET", f"/conversations/{direct['id']}/preferences", token=me["token"])["mutedUntil"]
    hours = (datetime.fromisoformat(muted_until.replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 7.9 < hours <= 8, muted_until
    alice.click("Close", within=dialog)
    alice.text_appears(".muted-tag", "Muted")

    # On the list (nothing is read on sight): a plain message arrives, but the bell stays quiet …
    alice.click("Chats")
    api.send(peer, direct["id"], "Just chatting")
    alice.wait(lambda: alice.find(".conversation-item .unread-badge").text.startswith("1"))
    time.sleep(0.5)
    assert bell(alice) == "Notifications"
    # … while a mention gets through.
    api.send(peer, direct["id"], f"@{me['username']} but this one matters")
    alice.wait(lambda: bell(alice) == "Notifications, 1 unread", message="the mention did not reach the bell")
    alice.find(".conversation-item .mention-badge")
    assert [n["kind"] for n in api.call("GET", "/notifications?unread=true", token=me["token"])["items"]] == ["mention"]

    # Unmuted, a plain message counts again.
    alice.open_conversation("Chad Chatty")
    alice.click("Details")
    dialog = alice.find("dialog[open]")
    alice.click("Unmute", within=dialog)
    alice.find("dialog[open] .mute-choices")
    assert "mutedUntil" not in api.call("GET", f"/conversations/{direct['id']}/preferences", token=me["token"])
    alice.click("Close", within=dialog)
    alice.wait(lambda: not alice.find_hidden(".muted-tag").is_displayed())


def conversation_theme(page):
    return page.js("return document.querySelector('.conversation').dataset.chatTheme")


def test_a_theme_set_by_a_group_admin_shows_live_and_a_member_may_override_it(alice, bob, api):
    owner = api.user("own", "Olga Owner")
    member = api.user("mem", "Max Member")
    group = api.call("POST", "/groups", {"title": "Design", "memberIds": [member["id"]]}, owner["token"])
    api.send(owner, group["id"], "Pick a colour")
    alice.sign_in(member["username"])
    alice.open_conversation("Design")
    alice.wait_message("Pick a colour")
    before = send_button_colours(alice)
    assert conversation_theme(alice) == "default"

    # A member sees the shared look, and cannot change it.
    alice.click("Group details")
    dialog = alice.find("dialog[open]")
    alice.text_appears("dialog[open] .shared-look", "Parley's own look. Chosen by the group's admins.")
    assert not [b for b in dialog.find_elements(By.CSS_SELECTOR, "button") if b.text == "Save the look for everyone"]
    alice.click("Close", within=dialog)

    # The owner chooses Ocean with dots, for everyone.
    bob.sign_in(owner["username"])
    bob.open_conversation("Design")
    bob.click("Group details")
    dialog = bob.find("dialog[open]")
    choose(bob, f"#conv-theme-{group['id']}-name", "ocean")
    choose(bob, f"#conv-theme-{group['id']}-wallpaper", "dots")
    bob.click("Save the look for everyone", within=dialog)
    bob.click("Close", within=dialog)
    bob.wait(lambda: conversation_theme(bob) == "ocean")

    # The member's open conversation takes it at once: accent and wallpaper, readable.
    alice.wait(lambda: conversation_theme(alice) == "ocean", message="the theme did not arrive live")
    assert "wallpaper-dots" in alice.find(".messages").get_attribute("class")
    background, text = send_button_colours(alice)
    assert background != before[0]
    assert contrast(rgb(background), rgb(text)) >= 4.5, (background, text)

    # Her own look, Rose without wallpaper, is hers alone.
    alice.click("Group details")
    dialog = alice.find("dialog[open]")
    alice.text_appears("dialog[open] .shared-look", "Ocean, dots wallpaper")
    choose(alice, f"#my-theme-{group['id']}-name", "rose")
    choose(alice, f"#my-theme-{group['id']}-wallpaper", "none")
    alice.click("Use for me", within=dialog)
    alice.wait(lambda: conversation_theme(alice) == "rose")
    assert "wallpaper-" not in alice.find(".messages").get_attribute("class")
    assert api.call("GET", f"/conversations/{group['id']}/preferences", token=member["token"])["theme"]["name"] == "rose"
    time.sleep(0.3)
    assert conversation_theme(bob) == "ocean"
    # And back to the shared one.
    choose(alice, f"#my-theme-{group['id']}-name", "")
    alice.click("Use for me", within=dialog)
    alice.wait(lambda: conversation_theme(alice) == "ocean")
    alice.click("Close", within=dialog)
    assert not alice.console_errors() and not bob.console_errors()


def test_appearance_changed_in_one_session_applies_live_in_another(alice, bob, api):
    me = api.user("pat", "Pat Prefs")
    alice.sign_in(me["username"])
    bob.sign_in(me["username"])  # the same person on another device
    bob.click("Settings")
    bob.find("#pref-appearance-theme-light")
    assert bob.js("return document.documentElement.dataset.theme") == "light"

    alice.click("Settings")
    alice.find("#pref-appearance-theme-dark").click()
    choose(alice, "#pref-appearance-fontScale", "1.125")
    alice.find("#pref-appearance-density-compact").click()
    alice.js("const i = document.getElementById('pref-appearance-accentColor'); i.value = '#2e7d32'; i.dispatchEvent(new Event('change'))")
    # Applied at once where they were made …
    assert alice.js("return document.documentElement.dataset.theme") == "dark"
    alice.wait(lambda: alice.js("return getComputedStyle(document.documentElement).fontSize") == "18px")

    # … and live on the other device, settings screen included.
    root = "return [document.documentElement.dataset.theme, getComputedStyle(document.documentElement).fontSize, document.documentElement.dataset.density]"
    bob.wait(lambda: bob.js(root) == ["dark", "18px", "compact"], message="the other session did not follow")
    bob.wait(lambda: bob.js("return document.documentElement.style.getPropertyValue('--accent')") not in ("", None))
    accent = bob.js("return getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert contrast(rgb_hex(accent), rgb_hex("#2b2f35")) >= 4.5, accent  # links on the darkest dark surface
    bob.wait(lambda: bob.find("#pref-appearance-theme-dark").is_selected())
    assert Select(bob.find("#pref-appearance-fontScale")).first_selected_option.text == "Large"
    prefs = api.call("GET", "/me/preferences", token=me["token"])["appearance"]
    assert prefs == {"theme": "dark", "fontScale": 1.125, "density": "compact", "accentColor": "#2e7d32"}, prefs

    # The next visit paints with them at once, before any request (no flash of the defaults).
    marker = inject(bob.driver, FIRST_PAINT)
    try:
        bob.driver.refresh()
        first_paint = bob.wait(lambda: bob.js("return window.firstPaint"))
    finally:
        bob.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": marker})
    assert first_paint["theme"] == "dark" and first_paint["density"] == "compact" and first_paint["fontSize"] == "112.5%", first_paint
    assert first_paint["accent"] == accent, first_paint

    # Back to Parley's own accent, from the other device this time.
    bob.wait_connected()
    bob.click("Use Parley's colour")
    alice.wait(lambda: alice.js("return document.documentElement.style.getPropertyValue('--accent')") == "")
    assert "accentColor" not in api.call("GET", "/me/preferences", token=me["token"])["appearance"]
    assert not alice.console_errors() and not bob.console_errors()


def rgb_hex(value):
    value = value.strip()
    if value.startswith("#"):
        return [int(value[i:i + 2], 16) for i in (1, 3, 5)]
    return rgb(value)


def test_a_conversations_own_settings_follow_the_user_to_other_devices(alice, bob, api):
    me = api.user("dev", "Dee Devices")
    peer = api.user("pal", "Pal Peer")
    direct = api.direct(peer, me)
    cid = direct["id"]
    api.send(peer, direct["id"], "Hello on every device")
    # Two devices of the same person, each showing the conversation and its details.
    for page in (alice, bob):
        page.sign_in(me["username"])
        page.open_conversation("Pal Peer")
        page.wait_message("Hello on every device")
        page.click("Details")
        page.find("dialog[open] .mute-choices")
    alice.js("window.sameDocument = true")  # gone if the page reloaded

    # Muted on one: the other shows it in the open details and, once they close, in the header.
    bob.click("Mute for 1 hour", within=bob.find("dialog[open]"))
    bob.text_appears("dialog[open] .mute-status", "Muted until")
    alice.text_appears("dialog[open] .mute-status", "Muted until", timeout=5)
    # The level.
    choose(bob, f"#conv-level-{cid}", "mentions")
    alice.wait(lambda: Select(alice.find(f"#conv-level-{cid}")).first_selected_option.get_attribute("value") == "mentions", 5,
               "the level did not follow")
    # A look of one's own: on every device of that person, the other person's unchanged.
    choose(bob, f"#my-theme-{cid}-name", "forest")
    bob.click("Use for me", within=bob.find("dialog[open]"))
    bob.wait(lambda: conversation_theme(bob) == "forest")
    alice.wait(lambda: conversation_theme(alice) == "forest", 5, "the own look did not follow")
    alice.wait(lambda: Select(alice.find(f"#my-theme-{cid}-name")).first_selected_option.get_attribute("value") == "forest")
    alice.click("Close", within=alice.find("dialog[open]"))
    alice.text_appears(".muted-tag", "Muted")

    # Changed by a third device (the REST API as that person): both follow.
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    api.call("PATCH", f"/conversations/{cid}/preferences", {"mutedUntil": now, "notifications": "none", "resetTheme": True}, me["token"])
    alice.text_appears(".muted-tag", "Notifications off", timeout=5)
    alice.wait(lambda: conversation_theme(alice) == "default", 5)
    bob.wait(lambda: conversation_theme(bob) == "default", 5)
    bob.wait(lambda: Select(bob.find(f"#conv-level-{cid}")).first_selected_option.get_attribute("value") == "none", 5)
    bob.find("dialog[open] .mute-choices")  # no longer muted
    api.call("PATCH", f"/conversations/{cid}/preferences", {"notifications": "default"}, me["token"])
    alice.wait(lambda: not alice.find_hidden(".muted-tag").is_displayed(), 5)
    assert alice.js("return window.sameDocument") is True
    assert api.call("GET", f"/conversations/{cid}/preferences", token=peer["token"]).get("theme") is None
    assert not alice.console_errors() and not bob.console_errors()
