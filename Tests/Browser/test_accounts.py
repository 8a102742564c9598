"""Accounts through the page: a password reset and an address confirmation from the mailed links,
and signing out another device from the session list."""

from selenium.webdriver.common.by import By

from conftest import PASSWORD


def test_password_reset_from_the_mailed_link(alice, api, server):
    user = api.user("rst", "Rosa Reset")
    alice.fresh()
    alice.click("Forgot your password?")
    form = alice.find("form")
    form.find_element(By.NAME, "email").send_keys(user["email"])
    alice.click("Send the link")
    alice.text_appears(".notice", "a link to reset its password is on its way")

    # Without SMTP the server writes the mail, link included, to its log.
    link = server.reset_link(user["email"])
    assert link.startswith(f"{server.url}/reset-password?token=pr_")
    alice.driver.get(link)
    form = alice.find("form")
    # The token leaves the address bar at once.
    assert "token" not in alice.driver.current_url
    form.find_element(By.NAME, "newPassword").send_keys("a brand new passphrase")
    form.find_element(By.NAME, "again").send_keys("a brand new passphrase")
    alice.click("Set the password")
    alice.text_appears("h1", "Your password is set")

    # The link is spent; the old password no longer works; the new one does.
    alice.click("Sign in")
    form = alice.find("form")
    form.find_element(By.NAME, "login").send_keys(user["username"])
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    alice.click("Sign in", within=form)
    alice.text_appears(".form-error", "wrong")
    form.find_element(By.NAME, "password").clear()
    form.find_element(By.NAME, "password").send_keys("a brand new passphrase")
    alice.click("Sign in", within=form)
    alice.wait_connected()

    # Opening the spent link again says so.
    alice.driver.get(link)
    form = alice.find("form")
    form.find_element(By.NAME, "newPassword").send_keys("yet another passphrase")
    form.find_element(By.NAME, "again").send_keys("yet another passphrase")
    alice.click("Set the password")
    alice.text_appears(".form-error", "expired or was already used")


def test_sign_out_another_device(alice, bob, api):
    user = api.user("dev", "Dana Devices")
    alice.sign_in(user["username"])
    bob.sign_in(user["username"])
    bob_session = bob.js("return JSON.parse(localStorage.getItem('parley.session')).sessionId")

    alice.click("Settings")
    row = f'.session[data-session-id="{bob_session}"]'
    assert "This device" not in alice.find(row).text
    alice.find(".session .tag")  # this device is marked
    alice.wait(lambda: alice.find(row).find_element(By.CSS_SELECTOR, "button").click() or True)

    # Bob's browser learns at once (session.revoked, then close 4501) and shows why.
    bob.text_appears(".notice", "signed out from another device", timeout=10)
    bob.find("form")
    assert bob.js("return localStorage.getItem('parley.session')") is None
    # Alice's own session goes on, and the list no longer shows Bob's.
    alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, f'.session[data-session-id="{bob_session}"]'))
    assert alice.js("return document.getElementById('connection').dataset.state") == "connected"


def test_change_password_signs_out_the_others(alice, bob, api):
    user = api.user("pwd", "Pat Password")
    alice.sign_in(user["username"])
    bob.sign_in(user["username"])
    alice.click("Settings")
    form = alice.find(".settings-section[aria-labelledby=settings-password] form")
    form.find_element(By.NAME, "current").send_keys("not my password")
    form.find_element(By.NAME, "next").send_keys("another fine passphrase")
    alice.click("Change password", within=form)
    alice.text_appears(".field-error", "not your current password")
    form.find_element(By.NAME, "current").clear()
    form.find_element(By.NAME, "current").send_keys(PASSWORD)
    alice.click("Change password", within=form)
    alice.text_appears("#toast", "Password changed")
    bob.text_appears(".notice", "password was changed", timeout=10)
    assert alice.js("return document.getElementById('connection').dataset.state") == "connected"


def test_tokens_refreshed_before_they_expire(alice, api):
    user = api.user("tok", "Toby Tokens")
    friend = api.user("frn", "Fran Friend")
    conversation = api.direct(friend, user)
    alice.sign_in(user["username"])
    before = alice.js("return JSON.parse(localStorage.getItem('parley.session'))")

    # Pretend the access token expires in 30 s: the page renews the pair at once (it refreshes a
    # minute ahead), hands the new token to its socket, and goes on working.
    alice.js("const s = JSON.parse(localStorage.getItem('parley.session')); s.expiresAt = Date.now() + 30000;"
             "localStorage.setItem('parley.session', JSON.stringify(s));")
    alice.open()
    alice.wait(lambda: alice.js("return JSON.parse(localStorage.getItem('parley.session')).refreshToken") != before["refreshToken"], 10,
               "the tokens were not refreshed")
    after = alice.js("return JSON.parse(localStorage.getItem('parley.session'))")
    assert after["sessionId"] == before["sessionId"]
    assert after["expiresAt"] > alice.js("return Date.now()") + 10 * 60 * 1000
    # The old refresh token is spent: using it again would revoke the session (reuse detection),
    # so the page must never have presented it twice. The session is alive and works.
    alice.wait_connected()
    api.send(friend, conversation["id"], "Still here?")
    alice.open_conversation("Fran Friend")
    alice.wait_message("Still here?")
    alice.send("Yes")
    sessions = api.call("GET", "/auth/sessions", token=user["token"])["items"]
    assert any(s["id"] == after["sessionId"] for s in sessions)


def test_verify_email_from_the_mailed_link(alice, api, server):
    user = api.user("vfy", "Vera Verify")
    link = server.mailed_link(user["email"], "verify-email")
    alice.driver.get(link)
    alice.text_appears("[role=status]", f"{user['email']} is confirmed")
    assert "token" not in alice.driver.current_url
    assert api.call("GET", "/me", token=user["token"])["emailVerified"] is True
    # Used once: the same link again says so.
    alice.driver.get(link)
    alice.text_appears("[role=status]", "used, expired")
    assert alice.console_errors() == []


def test_change_username_and_email_from_settings(alice, bob, api, server):
    user = api.user("ren", "Rena Rename")
    peer = api.user("per", "Percy Peer")
    api.direct(peer, user)
    bob.sign_in(peer["username"])
    bob.open_conversation("Rena Rename")
    bob.click("Details")
    bob.text_appears("dialog[open] .username", f"@{user['username']}")

    alice.sign_in(user["username"])
    alice.click("Settings")
    form = alice.find(".settings-section[aria-labelledby=settings-account] form")
    new_name = user["username"][:20] + ".new"
    alice.fill(form, {"username": new_name.upper()})
    alice.click("Change username", within=form)
    alice.text_appears("#toast", f"You are @{new_name} now")
    # Whoever has her open sees the new name at once (profile.updated).
    bob.text_appears("dialog[open] .username", f"@{new_name}")
    alice.fill(form, {"username": new_name + "2"})
    alice.click("Change username", within=form)
    alice.text_appears(".field-error", "you can again in 30 days")

    # A new address: a link goes there; the account moves when it is opened, and settings follow live.
    alice.text_appears("#email-status", f"{user['email']} — not confirmed yet")
    email_form = alice.find(".settings-section[aria-labelledby=settings-account] form:last-of-type")
    new_email = f"{new_name}@elsewhere.example"
    alice.fill(email_form, {"newEmail": new_email, "password": "not my password"})
    alice.click("Change e-mail address", within=email_form)
    alice.text_appears(".field-error", "not your password")
    alice.fill(email_form, {"newEmail": new_email, "password": user["password"]})
    alice.click("Change e-mail address", within=email_form)
    alice.text_appears("#toast", f"Open the link we mailed to {new_email}")
    token = server.mailed_link(new_email, "verify-email").split("token=")[1]
    assert api.call("POST", "/auth/verify-email", {"token": token})["email"] == new_email
    alice.text_appears("#email-status", f"{new_email} — confirmed")
    assert alice.console_errors() == [] and bob.console_errors() == []


def test_delete_account_from_settings(alice, bob, api):
    user = api.user("del", "Dora Delete")
    peer = api.user("frd", "Fred Friend")
    api.direct(peer, user)
    bob.sign_in(peer["username"])
    bob.open_conversation("Dora Delete")

    alice.sign_in(user["username"])
    alice.click("Settings")
    form = alice.find(".settings-section[aria-labelledby=settings-delete] form")
    alice.fill(form, {"password": "not my password"})
    alice.click("Delete my account", within=form)
    alice.text_appears(".field-error", "not your password")
    alice.fill(form, {"password": user["password"]})
    alice.click("Delete my account", within=form)
    alice.text_appears(".notice", "Your account was deleted")
    # The other side sees who it was no more, live, and keeps the chat.
    bob.wait(lambda: bob.find(".conversation-name").text == "Deleted user", 10, "the chat was not renamed")
    status, _ = api.call_status("POST", "/auth/login", {"login": user["username"], "password": user["password"]})
    assert status == 401
    assert alice.console_errors() == [] and bob.console_errors() == []


def test_export_my_data_from_settings(alice, api):
    user = api.user("exp", "Ezra Export")
    alice.sign_in(user["username"])
    alice.click("Settings")
    alice.text_appears("#export-status", "once a day")
    alice.click("Export my data")
    alice.text_appears("#export-status", "Your archive is ready", timeout=15)
    link = alice.find("#export-status a")
    first = alice.js("return fetch(arguments[0]).then(r => r.text()).then(t => JSON.parse(t.split('\\n')[0]))", link.get_attribute("href"))
    assert first["type"] == "profile" and first["data"]["username"] == user["username"]
    alice.click("Export my data")
    alice.text_appears("#toast", "One archive a day")
    assert alice.console_errors() == []
