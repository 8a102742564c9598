"""Fixtures of the browser tests: Parley servers started from the binary under test, headless
Chromium sessions driven by Selenium, a REST helper for setting the scene quickly, and a page
helper that acts as a person would (through the page's own forms and buttons).

Run through `scripts/browser-test PARLEY_BINARY`, which installs what is missing first.
"""

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "Public"
# Screenshots of the main screens, both themes: written outside the repository (the best are
# copied by hand into Public/screenshots/ for Public/README.md).
SCREENSHOTS = Path(os.environ.get("PARLEY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "parley-screenshots")
PASSWORD = "correct horse battery"

# Figures the tests measure, printed at the end of the run (pytest_terminal_summary).
RESULTS = {}


def free_port():
    return int(subprocess.check_output([str(ROOT / "scripts" / "free-port")], text=True).strip())


class Server:
    """One `parley serve` process on a free port with a throwaway data folder; restartable on the
    same port and data. Its standard output (where mail goes without SMTP) is kept in a file."""

    def __init__(self, binary, public_dir=PUBLIC, extra_args=()):
        self.binary = binary
        self.public_dir = str(public_dir)
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="parley-browser-data-")
        self.log_path = Path(self.data_dir) / "server.log"
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir, "--public-dir", self.public_dir,
             "--password-cost", "4", "--registrations-per-hour", "100000", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"parley exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError("parley did not become ready within 20 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: graceful, closes sockets with 1001
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        return self.log_path.read_text(errors="replace")

    def reset_link(self, email, timeout=10):
        """The last password-reset link mailed to `email` (written to the log without SMTP)."""
        return self.mailed_link(email, "reset-password", timeout)

    def mailed_link(self, email, page, timeout=10):
        """The last link to `page` (reset-password, verify-email) mailed to `email`, from the log."""
        deadline = time.time() + timeout
        pattern = re.compile(r"Mail to " + re.escape(email) + r"\b.*?(https?://\S+/" + page + r"\?token=[A-Za-z0-9_\-]+)", re.S)
        while time.time() < deadline:
            links = [m.group(1) for m in pattern.finditer(self.log())]
            if links:
                return links[-1]
            time.sleep(0.1)
        raise AssertionError(f"no {page} link for {email} in the server log:\n{self.log()[-2000:]}")

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Api:
    """Just enough of the REST API to set a scene; the tests then act through the page."""

    def __init__(self, server):
        self.server = server

    def call(self, method, path, body=None, token=None, image=None):
        """One REST call; `image` (a path) goes as the raw body of an upload."""
        status, answer = self.call_status(method, path, body, token, image)
        if status >= 400:
            raise AssertionError(f"{method} {path} → {status}: {answer!r}"[:600])
        return answer

    def call_status(self, method, path, body=None, token=None, image=None):
        """One REST call: (status, JSON answer or None), errors included."""
        data = Path(image).read_bytes() if image else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.server.url}/api/v1{path}", method=method, data=data)
        if image:
            request.add_header("Content-Type", {".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp"}[Path(image).suffix])
        elif body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text[:500]

    def user(self, prefix, display=None):
        """Registers a user; returns {username, email, password, displayName, id, token}."""
        name = unique(prefix)
        auth = self.call("POST", "/auth/register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "displayName": display or name})
        return {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "displayName": auth["user"]["displayName"],
                "id": auth["user"]["id"], "token": auth["accessToken"]}

    def direct(self, a, b):
        return self.call("POST", "/conversations/direct", {"userId": b["id"]}, a["token"])

    def send(self, user, conversation_id, body, reply_to=None, images=()):
        payload = {"clientMessageId": str(uuid.uuid4()), "body": body}
        if reply_to:
            payload["replyToId"] = reply_to
        if images:
            payload["attachments"] = [self.call("POST", "/uploads", token=user["token"], image=path)["id"] for path in images]
        return self.call("POST", f"/conversations/{conversation_id}/messages", payload, user["token"])


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def make_driver(width=1280, height=800):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=en-US",
                     f"--window-size={width},{height}", "--disable-extensions", "--no-first-run", "--mute-audio"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    set_viewport(driver, width, height)
    driver.set_script_timeout(30)
    return driver


def set_viewport(driver, width, height, mobile=False):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


class Page:
    """One browser session, driven through the page as a person would."""

    def __init__(self, driver, server):
        self.driver = driver
        self.server = server
        self.origin = server.url

    # — Navigation and waiting —
    def open(self, route="", origin=None):
        self.driver.get(f"{origin or self.origin}/?test{('#' + route) if route else ''}")
        self.wait(lambda: self.driver.execute_script("return document.readyState") == "complete")

    def fresh(self, origin=None):
        """A signed-out page with nothing stored: as a first visit."""
        self.driver.get(f"{origin or self.origin}/?test")
        self.driver.execute_script("localStorage.clear(); sessionStorage.clear();")
        self.open(origin=origin)

    def wait(self, condition, timeout=10, message=""):
        def attempt(_):
            try:
                return condition()
            except (StaleElementReferenceException, WebDriverException, AttributeError, TypeError, StopIteration, IndexError):
                return False
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(attempt, message)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css, timeout=10):
        return self.wait(lambda: self._displayed(css), timeout, f"no visible {css}")

    def find_hidden(self, css):
        """An element that is there but not meant to be seen (a live region, say)."""
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def _displayed(self, css):
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            if element.is_displayed():
                return element
        return None

    def button(self, text, within=None, timeout=10):
        """A visible button (or link styled as one) whose text or aria-label is `text`."""
        def look():
            scope = within or self.driver
            for element in scope.find_elements(By.CSS_SELECTOR, "button, a"):
                if element.is_displayed() and (element.text.strip() == text or element.get_attribute("aria-label") == text):
                    return element
            return None
        return self.wait(look, timeout, f"no button {text!r}")

    def click(self, text, within=None):
        def attempt():  # found and clicked in one go, again if a re-render made it stale
            self.button(text, within, timeout=2).click()
            return True
        self.wait(attempt, 10, f"could not click {text!r}")

    def fill(self, form, values):
        for name, value in values.items():
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(value)

    def text_appears(self, css, text, timeout=10):
        return self.wait(lambda: any(text in e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)), timeout,
                         f"{text!r} never appeared in {css}")

    # — Accounts —
    def register(self, prefix, display):
        username = unique(prefix)
        self.fresh()
        self.click("Create an account")
        form = self.find("form")
        self.fill(form, {"username": username, "email": f"{username}@example.com", "displayName": display, "password": PASSWORD})
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait_connected()
        return {"username": username, "email": f"{username}@example.com", "displayName": display, "password": PASSWORD}

    def sign_in(self, login, password=PASSWORD, origin=None):
        self.fresh(origin)
        form = self.find("form")
        self.fill(form, {"login": login, "password": password})
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait_connected()

    def wait_connected(self, timeout=15):
        self.wait(lambda: self.js("return document.getElementById('connection').dataset.state") == "connected", timeout, "never connected")

    def states(self):
        return self.js("return window.parleyTest.states")

    # — Conversations —
    def open_conversation(self, title):
        def attempt():  # find and click in one go: the list may be re-rendered in between
            for item in self.driver.find_elements(By.CSS_SELECTOR, ".conversation-item"):
                if item.find_element(By.CSS_SELECTOR, ".conversation-title").text.startswith(title):
                    item.click()
                    return True
            return False
        self.wait(attempt, 10, f"{title!r} is not in the list")
        self.wait(lambda: self.find(".conversation-name").text == title)

    def composer(self):
        return self.find("#composer")

    def send(self, text):
        composer = self.composer()
        composer.send_keys(text)
        composer.send_keys(Keys.ENTER)
        self.wait(lambda: self.message(text, own=True, sent=True), 10, f"{text!r} was not sent")

    def message(self, text, own=None, sent=False):
        """The <li> of the message whose body is exactly `text`."""
        css = ".message-list > li" + (".own" if own else "") + (":not(.pending)" if sent else "")
        for li in self.driver.find_elements(By.CSS_SELECTOR, css):
            bodies = li.find_elements(By.CSS_SELECTOR, ".message-body")
            if bodies and bodies[0].text == text:
                return li
        return None

    def wait_message(self, text, timeout=10):
        return self.wait(lambda: self.message(text), timeout, f"message {text!r} never appeared")

    def count_messages(self, text):
        return sum(1 for b in self.driver.find_elements(By.CSS_SELECTOR, ".message-list .message-body") if b.text == text)

    def message_action(self, text, action):
        """Clicks one of a message's action buttons (shown on hover), as a mouse user would."""
        def attempt():
            li = self.message(text)
            if not li:
                return None
            hover(self.driver, li)
            for button in li.find_elements(By.CSS_SELECTOR, ".action"):
                if button.text == action:
                    button.click()
                    return li
            return None
        return self.wait(attempt, 10, f"no {action!r} on {text!r}")

    def react(self, text, label):
        """Opens a message's reaction picker and picks the reaction labelled `label`."""
        def attempt():
            li = self.message(text)
            hover(self.driver, li)
            picker = li.find_element(By.CSS_SELECTOR, ".reaction-picker")
            if not picker.is_displayed():
                next(b for b in li.find_elements(By.CSS_SELECTOR, ".action") if b.text == "React").click()
            picker.find_element(By.CSS_SELECTOR, f'button[aria-label="{label}"]').click()
            return True
        self.wait(attempt, 10, f"could not react to {text!r}")

    def console_errors(self):
        """Script errors logged since the last call. Answers of 4xx the page expects and handles
        (a wrong password, say) are logged by Chromium as "network" errors: those are left out."""
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE" and entry.get("source") != "network"]


def hover(driver, element):
    from selenium.webdriver.common.action_chains import ActionChains
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(driver).move_to_element(element).perform()


# — Fixtures —

@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("PARLEY_BINARY", "/tmp/parley-web/parley")
    assert os.access(path, os.X_OK), f"no parley binary at {path} (set PARLEY_BINARY)"
    return path


class StaticSite:
    """Public/ served from another origin by a plain static server, with its meta tag pointing at
    the API's origin and the CSP such a deployment needs (connect-src naming the API)."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="parley-static-")
        self.api = None
        self.httpd = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def serve(self, api_origin):
        self.api = api_origin
        shutil.copytree(PUBLIC, self.dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("screenshots", "README.md"))
        index = Path(self.dir) / "index.html"
        html = index.read_text()
        assert '<meta name="parley-api" content="">' in html
        index.write_text(html.replace('<meta name="parley-api" content="">', f'<meta name="parley-api" content="{api_origin}">'))
        ws = api_origin.replace("http", "ws", 1)
        csp = (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: {api_origin}; "
               f"connect-src 'self' {api_origin} {ws}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

        class Handler(http.server.SimpleHTTPRequestHandler):
            def end_headers(self):
                self.send_header("Content-Security-Policy", csp)
                self.send_header("Cache-Control", "no-cache")
                super().end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), functools.partial(Handler, directory=self.dir))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        if self.httpd:
            self.httpd.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def static_site():
    site = StaticSite()
    yield site
    site.close()


@pytest.fixture(scope="session")
def server(binary, static_site):
    # Loopback push endpoints allowed: the push service of test_push.py is one (see PushService).
    server = Server(binary, extra_args=["--cors-origins", static_site.url, "--allow-loopback-push"])
    static_site.serve(server.url)
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def api(server):
    return Api(server)


@pytest.fixture(scope="session")
def drivers():
    made = {}

    def get(name):
        if name not in made:
            made[name] = make_driver()
        return made[name]
    yield get
    for driver in made.values():
        try:
            driver.quit()
        except Exception:
            pass


def page_for(driver, server):
    set_viewport(driver, 1280, 800)
    driver.get_log("browser")  # start each test with an empty console
    return Page(driver, server)


@pytest.fixture
def alice(drivers, server):
    return page_for(drivers("a"), server)


@pytest.fixture
def bob(drivers, server):
    return page_for(drivers("b"), server)


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.write_sep("-", "web page measurements")
        for key, value in RESULTS.items():
            terminalreporter.write_line(f"{key}: {json.dumps(value) if not isinstance(value, str) else value}")


FAILURE_DIR = Path(tempfile.gettempdir()) / "parley-browser-failures"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, keeps a screenshot and the console of every browser (outside the repo)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    drivers = item.funcargs.get("drivers")
    pages = [v for v in item.funcargs.values() if isinstance(v, Page)]
    FAILURE_DIR.mkdir(exist_ok=True)
    for index, page in enumerate(pages):
        base = FAILURE_DIR / f"{item.name}-{index}"
        try:
            page.driver.save_screenshot(f"{base}.png")
            base.with_suffix(".log").write_text(json.dumps(page.driver.get_log("browser"), indent=1))
            report.sections.append(("browser", f"screenshot and console: {base}.png / .log"))
        except Exception as error:  # the browser itself may be what failed
            report.sections.append(("browser", f"no screenshot: {error}"))
    del drivers
