"""The Hummingbird adapter's example app (Adapters/SwitchboardHummingbird, `hummingbird-example`):
plain HTTP from Hummingbird's router and Switchboard's JSON-RPC route on one port, driven by
Python `websockets` and by headless Chromium. The binary: $HUMMINGBIRD_EXAMPLE_BIN, default
Adapters/SwitchboardHummingbird/.build/debug/hummingbird-example (scripts/test.sh builds it)."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.support.ui import WebDriverWait
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from conftest import AppProcess, browser_console, built_binary


def example_bin() -> str:
    return built_binary("HUMMINGBIRD_EXAMPLE_BIN", "Adapters/SwitchboardHummingbird/.build/debug/hummingbird-example",
                        "swift build in Adapters/SwitchboardHummingbird")


@pytest.fixture
def app():
    process = AppProcess([example_bin()], "hummingbird-example")
    yield process
    process.stop()


def test_http_and_json_rpc_on_one_port(app):
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/hello", timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"hello from Hummingbird\n"

    async def rpc() -> tuple[str | None, list]:
        async with connect(f"ws://127.0.0.1:{app.port}/rpc", subprotocols=["jsonrpc"],
                           additional_headers={"Authorization": "Bearer python"}) as ws:
            await ws.send(json.dumps([{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 1},
                                      {"jsonrpc": "2.0", "method": "whoami", "id": 2}]))
            batch = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return ws.subprotocol, sorted(batch, key=lambda r: r["id"])

    subprotocol, answers = asyncio.run(asyncio.wait_for(rpc(), 20))
    assert subprotocol == "jsonrpc"
    assert [a["result"] for a in answers] == [19, "python"], answers


def test_no_token_is_401_with_www_authenticate(app):
    async def attempt():
        async with connect(f"ws://127.0.0.1:{app.port}/rpc", subprotocols=["jsonrpc"]):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(asyncio.wait_for(attempt(), 20))
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="rpc"'
    # Plain HTTP on the route that has no HTTP handler is the app's 404, not a WebSocket answer.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{app.port}/nowhere", timeout=10)
    assert missing.value.code == 404


def test_chromium_calls_json_rpc_through_the_adapter(app, chromium):
    chromium.get(f"http://127.0.0.1:{app.port}/test")
    try:
        WebDriverWait(chromium, 20).until(lambda d: d.title != "pending")
    finally:
        console = browser_console(chromium)
    assert chromium.title == "done jsonrpc 19 browser", f"title {chromium.title!r}\n{console}\n{app.output()}"
