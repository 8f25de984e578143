"""The framework adapters' example apps, each serving its framework's plain HTTP routes and
Switchboard's JSON-RPC route on one port, driven by Python `websockets` and by headless Chromium:

- Hummingbird 2: Adapters/SwitchboardHummingbird, `hummingbird-example` ($HUMMINGBIRD_EXAMPLE_BIN);
- Vapor 4: Adapters/SwitchboardVapor, `vapor-example` ($VAPOR_EXAMPLE_BIN).

scripts/test.sh builds both (stage 2b); the defaults are their debug builds."""
from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.support.ui import WebDriverWait
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import AppProcess, browser_console, built_binary

# name: (binary's variable, default path, hint, /hello's answer, the line that says it listens)
APPS = {
    "hummingbird": ("HUMMINGBIRD_EXAMPLE_BIN", "Adapters/SwitchboardHummingbird/.build/debug/hummingbird-example",
                    "swift build in Adapters/SwitchboardHummingbird", b"hello from Hummingbird\n", "listening on"),
    "vapor": ("VAPOR_EXAMPLE_BIN", "Adapters/SwitchboardVapor/.build/debug/vapor-example",
              "swift build in Adapters/SwitchboardVapor", b"hello from Vapor\n", "Server started on"),
}


@pytest.fixture(params=sorted(APPS))
def app(request):
    env, default, hint, hello, ready = APPS[request.param]
    process = AppProcess([built_binary(env, default, hint)], f"{request.param}-example", ready=ready)
    process.hello = hello
    yield process
    process.stop()


def test_http_and_json_rpc_on_one_port(app):
    with urllib.request.urlopen(f"http://127.0.0.1:{app.port}/hello", timeout=10) as response:
        assert response.status == 200
        assert response.read() == app.hello

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
    # A path neither the app nor Switchboard serves is the app's 404, not a WebSocket answer.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{app.port}/nowhere", timeout=10)
    assert missing.value.code == 404


def test_sigterm_closes_websockets_with_1001(app):
    """The framework's graceful shutdown reaches Switchboard's connections: close 1001, then exit."""
    async def session():
        async with connect(f"ws://127.0.0.1:{app.port}/echo") as ws:
            await ws.send("before")
            assert await asyncio.wait_for(ws.recv(), 10) == "before"
            app.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 15)
            return closed.value.rcvd.code if closed.value.rcvd else None

    started = time.monotonic()
    code = asyncio.run(asyncio.wait_for(session(), 30))
    assert code == 1001, app.output()
    assert app.proc.wait(15) == 0, app.output()
    assert time.monotonic() - started < 15


def test_chromium_calls_json_rpc_through_the_adapter(app, chromium):
    chromium.get(f"http://127.0.0.1:{app.port}/test")
    try:
        WebDriverWait(chromium, 20).until(lambda d: d.title != "pending")
    finally:
        console = browser_console(chromium)
    assert chromium.title == "done jsonrpc 19 browser", f"title {chromium.title!r}\n{console}\n{app.output()}"
