"""Two people chatting in real time, each in a browser of their own; a group administered live;
the connection cut and the server restarted without losing or repeating a message."""

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys



def test_direct_chat_both_ways(alice, bob):
    alice.register("ann", "Ann Lee")
    ben = bob.register("ben", "Ben Ode")

    # Ann finds Ben and opens a direct chat with him.
    search = alice.find("#global-search")
    search.send_keys(ben["username"])
    alice.click(f"Message {ben['displayName']}")
    alice.wait(lambda: alice.find(".conversation-name").text == "Ben Ode")
    alice.send("Hello Ben")

    # The conversation appears in Ben's list, live, with one unread message.
    bob.text_appears(".conversation-item", "Hello Ben")
    bob.wait(lambda: bob.find(".conversation-item .badge").text.startswith("1"), message="no unread badge")
    bob.open_conversation("Ann Lee")
    bob.wait_message("Hello Ben")

    # Ben read it (his page showed it): Ann sees "Seen" under her message.
    alice.wait(lambda: "Seen" in alice.message("Hello Ben").text, message="Ann never saw 'Seen'")

    # Ben types: Ann sees it.
    bob.composer().send_keys("Hi An")
    alice.text_appears(".typing-line", "Ben Ode is typing")
    bob.composer().send_keys("n" + Keys.ENTER)
    alice.wait_message("Hi Ann")
    assert alice.count_messages("Hi Ann") == 1
    # A message ends the typing notice at once.
    alice.wait(lambda: "typing" not in alice.driver.find_element(By.CSS_SELECTOR, ".typing-line").text, 3)

    # Ann answers; Ben had the conversation open: it arrives, and Ann sees it seen.
    alice.send("How are you?")
    bob.wait_message("How are you?")
    alice.wait(lambda: "Seen" in alice.message("How are you?").text)

    # Ben reacts to Ann's first message.
    bob.react("Hello Ben", "React with thumbs up")
    alice.wait(lambda: "👍 1" in alice.message("Hello Ben").text, message="the reaction never reached Ann")
    alice.wait(lambda: alice.message("Hello Ben").find_element(By.CSS_SELECTOR, ".reaction").get_attribute("aria-pressed") == "false")
    bob.wait(lambda: bob.message("Hello Ben").find_element(By.CSS_SELECTOR, ".reaction").get_attribute("aria-pressed") == "true")

    # Ann edits it.
    alice.message_action("Hello Ben", "Edit")
    composer = alice.composer()
    composer.send_keys(Keys.CONTROL, "a")
    composer.send_keys("Hello Ben, edited" + Keys.ENTER)
    bob.wait_message("Hello Ben, edited")
    bob.wait(lambda: "edited" in bob.message("Hello Ben, edited").find_element(By.CSS_SELECTOR, ".message-meta").text)
    assert alice.message("Hello Ben") is None and bob.message("Hello Ben") is None

    # Ben replies to it.
    bob.message_action("Hello Ben, edited", "Reply")
    bob.text_appears(".composer-context", "Replying to Ann Lee")
    bob.composer().send_keys("Replying now" + Keys.ENTER)
    alice.wait(lambda: "Hello Ben, edited" in alice.message("Replying now").find_element(By.CSS_SELECTOR, ".reply-quote").text)

    # Text that looks like HTML stays text.
    alice.send('<img src=x onerror="window.pwned=1"><b>bold?</b>')
    bob.wait_message('<img src=x onerror="window.pwned=1"><b>bold?</b>')
    assert not bob.driver.find_elements(By.CSS_SELECTOR, ".message-list img, .message-list b")
    assert not bob.js("return window.pwned")

    # Ann deletes "How are you?": both see the tombstone.
    alice.message_action("How are you?", "Delete")
    alice.click("Delete", within=alice.find("dialog[open]"))
    for page in (alice, bob):
        page.wait(lambda: page.message("How are you?") is None)
        page.text_appears(".message-list", "This message was deleted.")

    # Every message once, on both sides.
    for page in (alice, bob):
        for text in ("Hello Ben, edited", "Hi Ann", "Replying now"):
            assert page.count_messages(text) == 1, (text, page)
    assert not alice.console_errors() and not bob.console_errors()


def test_group_created_renamed_and_joined_live(alice, bob, api):
    owner = api.user("own", "Olive Owner")
    member = api.user("mem", "Milo Member")
    alice.sign_in(owner["username"])
    bob.sign_in(member["username"])

    # Olive creates the group and opens its details.
    alice.click("New group")
    dialog = alice.find("dialog[open]")
    dialog.find_element(By.NAME, "title").send_keys("Tea party")
    alice.click("Create group", within=dialog)
    alice.wait(lambda: alice.find(".conversation-name").text == "Tea party")
    alice.click("Group details")
    dialog = alice.find("dialog[open]")
    # The owner may do everything.
    alice.button("Delete group", within=dialog)
    dialog.find_element(By.CSS_SELECTOR, "input[type=search]").send_keys(member["username"])
    alice.click(f"Add {member['displayName']}", within=dialog)

    # Milo sees the group appear, live.
    bob.text_appears(".conversation-title", "Tea party")

    # Olive renames it; Milo's list follows.
    alice.wait(lambda: "Milo Member" in dialog.text)
    title = dialog.find_element(By.NAME, "title")
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys("Mad tea party")
    alice.click("Save", within=dialog)
    bob.text_appears(".conversation-title", "Mad tea party")
    alice.click("Close", within=dialog)
    alice.wait(lambda: alice.find(".conversation-name").text == "Mad tea party")

    # Milo, a plain member, is not offered what only admins and the owner may do.
    bob.open_conversation("Mad tea party")
    bob.click("Group details")
    mdialog = bob.find("dialog[open]")
    bob.wait(lambda: "Olive Owner" in mdialog.text)
    assert bob.button("Leave group", within=mdialog)
    labels = [b.text for b in mdialog.find_elements(By.CSS_SELECTOR, "button")]
    assert "Delete group" not in labels and "Remove" not in labels and "Save the look for everyone" not in labels, labels
    assert not mdialog.find_elements(By.NAME, "title") and not mdialog.find_elements(By.CSS_SELECTOR, "select[id^=role-]")
    bob.click("Close", within=mdialog)

    # A message in the group reaches the member.
    alice.send("Welcome, Milo")
    bob.wait_message("Welcome, Milo")


def test_reconnect_resumes_without_loss_or_repeats(alice, bob, api, server):
    sender = api.user("snd", "Sam Sender")
    reader = api.user("rdr", "Rita Reader")
    conversation = api.direct(sender, reader)
    api.send(sender, conversation["id"], "Before the cut")
    alice.sign_in(sender["username"])
    bob.sign_in(reader["username"])
    bob.open_conversation("Sam Sender")
    bob.wait_message("Before the cut")
    alice.open_conversation("Rita Reader")

    # Rita's connection drops and stays down for 3 s; Sam writes meanwhile.
    bob.js("window.parleyTest.states.length = 0; window.parleyTest.drop(3000)")
    bob.wait(lambda: bob.js("return document.getElementById('connection').dataset.state") == "reconnecting", 3)
    assert bob.find("#connection").text == "Reconnecting…"
    for n in range(1, 4):
        alice.send(f"While away {n}")
    assert bob.message("While away 1") is None  # really cut off
    bob.wait_connected(timeout=15)
    for n in range(1, 4):
        bob.wait_message(f"While away {n}")
    states = bob.states()
    assert states.index("reconnecting") < len(states) - 1 - states[::-1].index("connected"), states

    # The server stops (closing every socket with 1001). Sam sends meanwhile: the message waits,
    # "Sending…", and is retried with the same clientMessageId once the server is back.
    bob.js("window.parleyTest.states.length = 0")
    server.stop()
    alice.wait(lambda: alice.js("return document.getElementById('connection').dataset.state") != "connected", 5)
    composer = alice.composer()
    composer.send_keys("Sent while the server was down" + Keys.ENTER)
    alice.wait(lambda: "Sending" in alice.message("Sent while the server was down").text, 5)
    assert "pending" in alice.message("Sent while the server was down").get_attribute("class")
    time.sleep(1)  # at least one attempt fails
    server.start()
    bob.wait_connected(timeout=20)
    alice.wait_connected(timeout=20)
    assert "reconnecting" in bob.states(), bob.states()
    alice.wait(lambda: alice.message("Sent while the server was down", own=True, sent=True), 20, "the message was never sent")
    bob.wait_message("Sent while the server was down")
    alice.send("After the restart")
    bob.wait_message("After the restart")

    # Nothing lost, nothing twice, in order.
    expected = ["Before the cut", "While away 1", "While away 2", "While away 3", "Sent while the server was down", "After the restart"]
    bodies = [b.text for b in bob.driver.find_elements(By.CSS_SELECTOR, ".message-list .message-body")]
    assert bodies == expected, bodies
    alice_bodies = [b.text for b in alice.driver.find_elements(By.CSS_SELECTOR, ".message-list .message-body")]
    assert alice_bodies == expected, alice_bodies
    history = api.call("GET", f"/conversations/{conversation['id']}/messages", token=reader["token"])
    assert [m["body"] for m in history["items"]] == expected
    # The list agrees: one conversation, last message the newest.
    assert "After the restart" in bob.find(".conversation-item").text


def test_tabs_of_one_user_stay_consistent(alice, api):
    me = api.user("tab", "Tess Tabs")
    other = api.user("wri", "Will Writer")
    conversation = api.direct(other, me)
    api.send(other, conversation["id"], "Read me in one tab")
    alice.sign_in(me["username"])
    first = alice.driver.current_window_handle
    alice.wait(lambda: alice.find(".conversation-item .badge").text.startswith("1"))

    # A second tab of the same browser shares the session; reading there clears the first's badge.
    alice.driver.switch_to.new_window("tab")
    try:
        alice.open()
        alice.wait_connected()
        alice.open_conversation("Will Writer")
        alice.wait_message("Read me in one tab")
        alice.driver.switch_to.window(first)
        alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, ".conversation-item .badge"), message="the first tab kept its unread badge")

        # A new message counts as unread in the first tab (the list only) …
        api.send(other, conversation["id"], "Another one")
        alice.wait(lambda: alice.find(".conversation-item .badge").text.startswith("1"))
        # … and when the second tab, which shows the conversation, reads it, in both.
        alice.driver.switch_to.window([h for h in alice.driver.window_handles if h != first][0])
        alice.wait_message("Another one")
        alice.driver.switch_to.window(first)
        alice.wait(lambda: not alice.driver.find_elements(By.CSS_SELECTOR, ".conversation-item .badge"), message="the badge did not clear")

        # Signing out in one tab signs out the other.
        alice.driver.switch_to.window([h for h in alice.driver.window_handles if h != first][0])
        alice.click("Sign out")
        alice.find("form")
        alice.driver.switch_to.window(first)
        alice.text_appears(".notice", "You signed out")
    finally:
        for handle in alice.driver.window_handles:
            if handle != first:
                alice.driver.switch_to.window(handle)
                alice.driver.close()
        alice.driver.switch_to.window(first)


def test_history_scrolls_back_and_search_finds(alice, api):
    me = api.user("his", "Hal History")
    other = api.user("tal", "Tilly Talker")
    conversation = api.direct(other, me)
    for n in range(130):
        api.send(other, conversation["id"], "a needle in the haystack" if n == 5 else f"Line {n}")
    alice.sign_in(me["username"])
    alice.open_conversation("Tilly Talker")
    alice.wait_message("Line 129")
    assert alice.message("Line 0") is None  # only the newest page is loaded

    # Scrolling to the top loads older pages until the beginning.
    def scrolled_back():
        alice.js("document.querySelector('.messages').scrollTop = 0")
        return alice.message("Line 0")
    alice.wait(scrolled_back, 15, "never reached the first message")
    alice.text_appears(".history-status", "beginning of the conversation")
    bodies = [b.text for b in alice.driver.find_elements(By.CSS_SELECTOR, ".message-list .message-body")]
    assert bodies == ["a needle in the haystack" if n == 5 else f"Line {n}" for n in range(130)], bodies[:10]

    # Search within the conversation, from a fresh load: the hit is far back, and the page fetches
    # its way there.
    alice.open()
    alice.open_conversation("Tilly Talker")
    alice.wait_message("Line 129")
    alice.click("Search")
    box = alice.find("#conversation-search-input")
    box.send_keys("haystack" + Keys.ENTER)
    hit = alice.wait(lambda: alice.driver.find_element(By.CSS_SELECTOR, "#conversation-search .message-hit"))
    assert alice.driver.find_element(By.CSS_SELECTOR, "#conversation-search mark").text.lower() == "haystack"
    hit.click()
    alice.wait(lambda: "highlight" in alice.message("a needle in the haystack").get_attribute("class"), message="did not jump to the hit")

    # Search across every conversation, from the sidebar.
    alice.open()
    alice.find("#global-search").send_keys("needle")
    link = alice.wait(lambda: alice.driver.find_element(By.CSS_SELECTOR, "#search-results .message-hit"))
    assert "Tilly Talker" in link.text
    link.click()
    alice.wait(lambda: alice.message("a needle in the haystack") and "highlight" in alice.message("a needle in the haystack").get_attribute("class"))


def test_resync_refetches_and_new_messages_are_announced(alice, api):
    me = api.user("rsy", "Remy Resync")
    other = api.user("ann", "Anna Announcer")
    conversation = api.direct(other, me)
    api.send(other, conversation["id"], "First")
    alice.sign_in(me["username"])
    alice.open_conversation("Anna Announcer")
    alice.wait_message("First")

    # A cursor the server cannot serve (here, past the stream's end): it answers `resync`, and
    # the page refetches the conversation and follows it from the server's position. A page that
    # ignored resync would drop every later event as already seen.
    stream = f"conversation:{conversation['id']}"
    alice.js("window.parleyTest.store.realtime.cursors[arguments[0]] = 100000; window.parleyTest.drop(0)", stream)
    alice.wait_connected()
    alice.wait(lambda: alice.js("return window.parleyTest.store.realtime.cursors[arguments[0]]", stream) < 100000, 5, "no resync")
    api.send(other, conversation["id"], "After the resync")
    alice.wait_message("After the resync")
    assert alice.count_messages("First") == 1 and alice.count_messages("After the resync") == 1

    # New messages are read out through the live region …
    api.send(other, conversation["id"], "Can you hear me?")
    alice.wait(lambda: "Anna Announcer: Can you hear me?" in alice.find_hidden("#announcer").get_attribute("textContent"), 5,
               "the message was not announced")
    # … unless that is turned off in the settings.
    alice.click("Settings")
    alice.find("#pref-accessibility-screenReaderAnnouncements").click()
    alice.wait(lambda: "saved" in alice.find_hidden("#announcer").get_attribute("textContent"))  # the setting's own confirmation
    api.send(other, conversation["id"], "Quietly now")
    alice.wait(lambda: "Quietly now" in alice.find(".conversation-item").text)
    time.sleep(0.5)
    assert "Quietly" not in alice.find_hidden("#announcer").get_attribute("textContent")
