"""Images through the page: sent with a message (previewed, uploaded, shown as thumbnails to both
sides, opened full size), a profile picture set in the settings, and a group icon."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import ROOT

IMAGES = ROOT / "Tests" / "Fixtures" / "images"


def loaded(page, img):
    """Whether an <img> finished loading a real picture (not a broken link)."""
    return page.js("return arguments[0].complete && arguments[0].naturalWidth > 0", img)


def test_images_sent_previewed_and_shown_to_both(alice, bob, api):
    ivy = api.user("ivy", "Ivy Image")
    seth = api.user("seth", "Seth Seer")
    api.direct(ivy, seth)
    alice.sign_in(ivy["username"])
    bob.sign_in(seth["username"])
    alice.open_conversation("Seth Seer")
    bob.open_conversation("Ivy Image")

    # Ivy picks two images: each is previewed in the tray and uploaded at once.
    picker = alice.driver.find_element(By.ID, "attach-input")
    picker.send_keys(str(IMAGES / "photo-exif-gps.jpg"))
    picker.send_keys(str(IMAGES / "animated.gif"))
    alice.wait(lambda: [e.text for e in alice.driver.find_elements(By.CSS_SELECTOR, ".attachment-tray .tray-status")] == ["Ready", "Ready"],
               message="the uploads never became ready")
    previews = alice.driver.find_elements(By.CSS_SELECTOR, ".attachment-tray img")
    assert len(previews) == 2 and all(p.get_attribute("src").startswith("blob:") for p in previews)
    alice.wait(lambda: all(loaded(alice, p) for p in previews))

    alice.composer().send_keys("Two pictures" + Keys.ENTER)
    alice.wait(lambda: not alice.driver.find_element(By.CSS_SELECTOR, ".attachment-tray").is_displayed(), message="the tray did not empty")

    # Both see the message with its two thumbnails, served by the API's signed links.
    for page in (alice, bob):
        page.wait(lambda: page.message("Two pictures") and len(page.message("Two pictures").find_elements(By.CSS_SELECTOR, ".attachment-img")) == 2,
                  message="the thumbnails never appeared")
        page.wait(lambda: page.message("Two pictures").get_attribute("class").find("pending") < 0)
        # (Queried afresh each time: a receipt re-renders the message.)
        thumbnails = lambda: page.message("Two pictures").find_elements(By.CSS_SELECTOR, ".attachment-img")  # noqa: E731
        page.wait(lambda: all(loaded(page, t) for t in thumbnails()), message="a thumbnail did not load")
        page.wait(lambda: all("/api/v1/media/" in t.get_attribute("src") and "variant=thumbnail" in t.get_attribute("src") for t in thumbnails()))
        page.wait(lambda: "Image 1 of 2 sent by" in thumbnails()[0].get_attribute("alt"))

    # Seth opens the first one: the original, upright and cleaned by the server, 48 × 64.
    bob.wait(lambda: bob.message("Two pictures").find_element(By.CSS_SELECTOR, "button.attachment").click() or True)
    dialog = bob.find("dialog[open]")
    full = dialog.find_element(By.CSS_SELECTOR, "img.full-image")
    bob.wait(lambda: loaded(bob, full))
    assert bob.js("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", full) == [48, 64]
    assert "variant" not in full.get_attribute("src")
    bob.click("Close", within=dialog)
    bob.wait(lambda: not bob.driver.find_elements(By.CSS_SELECTOR, "dialog[open]"))

    # An image alone, without text, goes too; the list says "Photo".
    alice.driver.find_element(By.ID, "attach-input").send_keys(str(IMAGES / "still.webp"))
    alice.wait(lambda: alice.find(".attachment-tray .tray-status").text == "Ready")
    alice.composer().send_keys(Keys.ENTER)
    bob.wait(lambda: len(bob.driver.find_elements(By.CSS_SELECTOR, ".message-list .attachment-img")) == 3, message="the lone image never arrived")
    bob.text_appears(".conversation-item", "Photo")
    assert not alice.console_errors() and not bob.console_errors()


def test_profile_picture_from_settings_shows_to_others(alice, bob, api):
    ava = api.user("ava", "Ava Tar")
    fred = api.user("fred", "Fred Friend")
    api.direct(fred, ava)
    alice.sign_in(ava["username"])
    alice.click("Settings")
    assert not alice.driver.find_elements(By.CSS_SELECTOR, ".picture-setting img")  # initials until then
    alice.driver.find_element(By.ID, "avatar-input").send_keys(str(IMAGES / "gps.png"))
    alice.text_appears(".picture-setting", "Profile picture updated.")
    alice.wait(lambda: loaded(alice, alice.find(".picture-setting img.avatar-img")), message="the new picture did not load")

    # Fred sees Ava's picture as the icon of their conversation.
    bob.sign_in(fred["username"])
    bob.wait(lambda: loaded(bob, next(a for a in bob.driver.find_elements(By.CSS_SELECTOR, ".conversation-item") if "Ava Tar" in a.text)
                            .find_element(By.CSS_SELECTOR, "img.avatar-img")), message="Fred does not see the picture")

    # Removing it goes back to initials.
    alice.click("Remove the profile picture")
    alice.text_appears(".picture-setting", "Profile picture removed.")
    assert not alice.driver.find_elements(By.CSS_SELECTOR, ".picture-setting img")
    assert alice.find(".picture-setting .avatar-initials").text == "AT"


def test_group_icon_roles_leave_and_delete(alice, bob, api):
    olive = api.user("olive", "Olive Owner")
    milo = api.user("milo", "Milo Member")
    group = api.call("POST", "/groups", {"title": "Croquet club", "memberIds": [milo["id"]]}, olive["token"])
    alice.sign_in(olive["username"])
    bob.sign_in(milo["username"])

    # Olive sets the group's icon; Milo's list shows it, live.
    alice.open_conversation("Croquet club")
    alice.click("Group details")
    dialog = alice.find("dialog[open]")
    dialog.find_element(By.ID, "group-icon-input").send_keys(str(IMAGES / "gps.png"))
    alice.text_appears("dialog[open] .picture-setting", "Group icon updated.")
    bob.wait(lambda: any(loaded(bob, img) for img in bob.driver.find_elements(By.CSS_SELECTOR, ".conversation-item img.avatar-img")),
             message="Milo never saw the icon")

    # Olive makes Milo an admin: his details now offer what admins may do.
    alice.wait(lambda: dialog.find_element(By.CSS_SELECTOR, 'select[aria-label="Role of Milo Member"] option[value=admin]').click() or True)
    alice.wait(lambda: api.call("GET", f"/conversations/{group['id']}/members", token=olive["token"])["items"][1]["role"] == "admin")
    bob.open_conversation("Croquet club")
    bob.click("Group details")
    mdialog = bob.find("dialog[open]")
    bob.wait(lambda: mdialog.find_elements(By.NAME, "title"), message="an admin is not offered the title")
    bob.wait(lambda: "Olive Owner" in mdialog.text)
    labels = [b.text for b in mdialog.find_elements(By.CSS_SELECTOR, "button")]
    assert "Change" in labels and "Delete group" not in labels, labels  # the icon, yes; deleting, no
    assert not mdialog.find_elements(By.CSS_SELECTOR, ".member-list button, .member-list select")  # nor the owner's role

    # Milo leaves; Olive's member list follows.
    bob.click("Leave group", within=mdialog)
    bob.click("Leave", within=bob.wait(lambda: [d for d in bob.driver.find_elements(By.CSS_SELECTOR, "dialog[open]") if "Leave Croquet club?" in d.text][0]))
    bob.wait(lambda: not any("Croquet club" in e.text for e in bob.driver.find_elements(By.CSS_SELECTOR, ".conversation-title")), message="the group stayed in Milo's list")
    alice.wait(lambda: "Milo Member" not in dialog.text, message="Olive still lists Milo")

    # Olive deletes it.
    alice.click("Delete group", within=dialog)
    alice.click("Delete group", within=alice.wait(lambda: [d for d in alice.driver.find_elements(By.CSS_SELECTOR, "dialog[open]") if "Delete Croquet club?" in d.text][0]))
    alice.wait(lambda: not any("Croquet club" in e.text for e in alice.driver.find_elements(By.CSS_SELECTOR, ".conversation-title")), message="the group stayed")
    assert not alice.console_errors() and not bob.console_errors()
