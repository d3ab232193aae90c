"""GraphiQL in a real browser, offline: Debian's chromium, driven by Playwright, against a real
`trunkline serve` on SQLite with the sandbox carriers. Every request that leaves this machine is
refused and counted, so the page must load everything from the server and still run a query."""

from __future__ import annotations

import json
import pathlib
import shutil
import urllib.parse

import pytest

from tests.serve_sqlite import serving
from tests.server_processes import create_workspace, sync_http_client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def chromium_path() -> str:
    # Not a skip: without a browser this test proves nothing, and CI (.ci/run) installs one.
    if not (pathlib.Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's browser with `apt-get install chromium`")
    return CHROMIUM


def test_graphiql_runs_a_query_with_a_key_from_its_headers_tab_offline(tmp_path, chromium_path):
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, TRUNKLINE_PROVIDERS="sandbox") as served:
        workspace = create_workspace(served.database_url, "Acme", 10)
        refused, failed, local = [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()

                def only_local(route) -> None:
                    if urllib.parse.urlsplit(route.request.url).hostname in LOCAL_HOSTS:
                        local.append(route.request.url)
                        route.continue_()
                    else:
                        refused.append(route.request.url)
                        route.abort()

                # data: URLs (the favicon, GraphiQL's fonts and icons) never reach a route handler.
                context.route("**/*", only_local)
                page = context.new_page()
                page.on("requestfailed", lambda request: failed.append(request.url))
                violations = []
                page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

                page.goto(served.url + "/graphql")
                page.locator(".graphiql-execute-button").wait_for(timeout=30_000)

                page.get_by_role("button", name="Headers", exact=True).click()
                headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
                headers_editor.click()
                # insert_text, not type: CodeMirror would close the braces and quotes typed one by one.
                page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {workspace['api_key']}"}))

                page.locator(".graphiql-query-editor .CodeMirror").click()
                page.keyboard.press("Control+a")
                page.keyboard.insert_text("{ workspace { id } }")
                page.locator(".graphiql-execute-button").click()

                result = page.locator(".result-window .CodeMirror")
                result.filter(has_text=workspace["workspace_id"]).wait_for(timeout=15_000)
                shown = result.evaluate("element => element.CodeMirror.getValue()")
                sent_headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
                sent = sent_headers.evaluate("element => element.CodeMirror.getValue()")
            finally:
                browser.close()

    assert json.loads(shown) == {"data": {"workspace": {"id": workspace["workspace_id"]}}}
    assert json.loads(sent) == {"Authorization": f"Bearer {workspace['api_key']}"}
    assert refused == [], f"the page tried to leave the machine: {refused}"
    assert failed == [] and violations == [], (failed, violations)
    # Everything it loaded came from the server's own routes: the page, its files and the queries.
    paths = {urllib.parse.urlsplit(url).path for url in local}
    assert {"/graphql", "/graphiql/assets/graphiql.min.js", "/graphiql/assets/react.production.min.js"} <= paths
    assert paths <= {"/graphql"} | {p for p in paths if p.startswith("/graphiql/assets/")}, paths


def test_graphiql_runs_the_events_subscription_with_the_key_from_its_headers_tab(tmp_path, chromium_path):
    from playwright.sync_api import sync_playwright

    from tests.graphql_documents import CREATE_SIP_TRUNK, IMPORT_PHONE_NUMBER

    with serving(tmp_path, TRUNKLINE_PROVIDERS="sandbox") as served:
        workspace = create_workspace(served.database_url, "Acme", 10)
        key = {"Authorization": f"Bearer {workspace['api_key']}"}
        with sync_playwright() as playwright, sync_http_client(base_url=served.url, headers=key, timeout=30) as http:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                sockets, frames = [], []

                def watch(socket) -> None:
                    sockets.append(socket.url)
                    socket.on("framereceived", lambda frame: frames.append(frame))
                    socket.on("framesent", lambda frame: frames.append(frame))

                page.on("websocket", watch)
                page.goto(served.url + "/graphql")
                page.locator(".graphiql-execute-button").wait_for(timeout=30_000)
                page.get_by_role("button", name="Headers", exact=True).click()
                page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
                page.keyboard.insert_text(json.dumps(key))
                page.locator(".graphiql-query-editor .CodeMirror").click()
                page.keyboard.press("Control+a")
                page.keyboard.insert_text("subscription { phoneNumberEvents { type phoneNumber { e164 } } }")
                # GraphiQL tells a subscription by the editor's parsed document, which follows typing after a pause.
                page.wait_for_timeout(1000)
                page.locator(".graphiql-execute-button").click()
                for _ in range(100):  # acknowledged, then subscribed
                    if any('"subscribe"' in frame for frame in frames):
                        break
                    page.wait_for_timeout(100)
                page.wait_for_timeout(300)  # the server registers the subscription

                # when: a number is imported through the API, in another client
                trunk_input = {"name": "Carrier", "direction": "BOTH", "sipAddress": "sip.example-carrier.com"}
                trunk = http.post("/graphql", json={"query": CREATE_SIP_TRUNK, "variables": {"input": trunk_input}})
                trunk_id = trunk.json()["data"]["createSipTrunk"]["sipTrunk"]["id"]
                number_input = {"e164": "+12125550199", "source": "BYOC", "trunkId": trunk_id}
                answer = http.post("/graphql", json={"query": IMPORT_PHONE_NUMBER, "variables": {"input": number_input}})
                assert answer.json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess", answer.text

                # then: the event shows in GraphiQL's result pane
                result = page.locator(".result-window .CodeMirror")
                result.filter(has_text="IMPORTED").wait_for(timeout=15_000)
                shown = result.evaluate("element => element.CodeMirror.getValue()")
            finally:
                browser.close()

    assert json.loads(shown) == {"data": {"phoneNumberEvents": {"type": "IMPORTED", "phoneNumber": {"e164": "+12125550199"}}}}
    assert sockets == [f"ws://127.0.0.1:{served.port}/graphql"]
    assert json.loads(frames[0]) == {"type": "connection_init", "payload": key}  # the Headers tab's JSON
