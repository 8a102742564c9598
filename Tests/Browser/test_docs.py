"""The interactive API docs at /docs (Swagger UI over the served openapi.yaml) and the realtime
protocol's page: they render under the server's strict CSP, and "Try it out" calls this server
with the session signed in on the web page."""

import json

import yaml
from selenium.webdriver.common.by import By

from conftest import RESULTS, ROOT


def test_docs_render_and_try_it_out_calls_this_server(alice, api, server):
    user = api.user("doc", "Dora Docs")
    alice.sign_in(user["username"])
    alice.wait_connected()

    alice.driver.get(f"{server.url}/docs")
    alice.wait(lambda: len(alice.driver.find_elements(By.CSS_SELECTOR, ".opblock")) > 40, 20, "Swagger UI did not render the operations")
    operations = len(alice.driver.find_elements(By.CSS_SELECTOR, ".opblock"))
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    spec_operations = sum(1 for path in spec["paths"].values() for method in path if method in {"get", "put", "post", "patch", "delete"})
    assert operations == spec_operations, f"{operations} operations shown, the spec has {spec_operations}"
    assert "OAS 3.1" in alice.find(".info").text

    # Signed in on the page: the docs are authorized with that session's token. Try GET /me.
    block = alice.find("#operations-me-getMe")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    alice.wait(lambda: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"), 10, "no Try it out button")
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    alice.wait(lambda: block.find_elements(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"), 10, "no response shown")
    status = block.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status").text.strip()
    body = block.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text
    assert status == "200", status
    assert json.loads(body)["username"] == user["username"]
    assert alice.console_errors() == []

    alice.driver.get(f"{server.url}/docs/realtime.html")
    assert "message.created" in alice.find("#message-created").text
    assert alice.console_errors() == []
    RESULTS["docs: operations rendered by Swagger UI"] = operations
