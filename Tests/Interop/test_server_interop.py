"""Python `websockets` as the CLIENT against `switchboard serve` (echo at /echo)."""
from __future__ import annotations

import asyncio
import http.client
import os
import signal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

MiB = 1 << 20


def run(coro, timeout=30.0):
    """Run a coroutine with a hard bound on its duration."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def client(url, **kw):
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    kw.setdefault("max_size", 16 * MiB)
    kw.setdefault("compression", None)  # plain RFC 6455; deflate is a later issue
    return connect(url, **kw)


async def echo_roundtrip(url, message, **kw):
    async with client(url, **kw) as ws:
        await ws.send(message)
        return await asyncio.wait_for(ws.recv(), 10)


# --- messages ----------------------------------------------------------------

@pytest.mark.parametrize("message", [
    "hello",
    "",
    "h\u00e9llo w\u00f6rld \u2603 \U0001F600",  # 2-, 3- and 4-byte UTF-8
], ids=["ascii", "empty", "utf8"])
def test_text_echo(server, message):
    got = run(echo_roundtrip(server.url, message))
    assert isinstance(got, str)
    assert got == message


@pytest.mark.parametrize("message", [b"\x00\x01\x02\xff", b"", bytes(range(256)) * 4],
                         ids=["short", "empty", "all-bytes"])
def test_binary_echo(server, message):
    got = run(echo_roundtrip(server.url, message))
    assert isinstance(got, bytes)
    assert got == message


@pytest.mark.parametrize("size", [125, 126, 65535, 65536], ids=lambda n: f"len{n}")
def test_payload_length_forms(server, size):
    # 7-bit, 16-bit and 64-bit payload length encodings (RFC 6455 5.2)
    msg = os.urandom(size)
    assert run(echo_roundtrip(server.url, msg)) == msg


def test_fragmented_text(server):
    # websockets sends an iterable as one fragmented message (one frame per item)
    parts = ["frag", "men", "ted \u00e9", "\u2603 text"]
    got = run(echo_roundtrip(server.url, parts))
    assert got == "".join(parts)


def test_fragmented_binary(server):
    parts = [os.urandom(1000) for _ in range(10)]
    got = run(echo_roundtrip(server.url, parts))
    assert got == b"".join(parts)


def test_one_mib_text(server):
    msg = ("0123456789abcdef\u00e9" * (MiB // 18 + 1))[: MiB]
    got = run(echo_roundtrip(server.url, msg), timeout=60)
    assert got == msg


def test_one_mib_binary(server):
    msg = os.urandom(MiB)
    got = run(echo_roundtrip(server.url, msg), timeout=60)
    assert got == msg


def test_many_messages_in_order(server):
    async def go():
        async with client(server.url) as ws:
            for i in range(200):
                await ws.send(f"msg {i}" if i % 2 else f"msg {i}".encode())
            return [await asyncio.wait_for(ws.recv(), 10) for _ in range(200)]
    got = run(go())
    assert got == [f"msg {i}" if i % 2 else f"msg {i}".encode() for i in range(200)]


# --- control frames ------------------------------------------------------------

def test_ping_gets_pong(server):
    async def go():
        async with client(server.url, ping_interval=None) as ws:
            for payload in (b"", b"ping-data", os.urandom(125)):
                waiter = await ws.ping(payload)  # resolves only on a pong with the same payload
                await asyncio.wait_for(waiter, 5)
            # the connection still works after the pings
            await ws.send("after ping")
            return await asyncio.wait_for(ws.recv(), 5)
    assert run(go()) == "after ping"


@pytest.mark.parametrize("code,reason", [(1000, ""), (1000, "normal bye"), (4000, "custom reason"), (4999, "\u00e9")])
def test_close_codes(server, code, reason):
    async def go():
        async with client(server.url) as ws:
            await ws.send("before close")
            assert await asyncio.wait_for(ws.recv(), 5) == "before close"
            await ws.close(code, reason)
            await asyncio.wait_for(ws.wait_closed(), 5)
            return ws.protocol.close_sent, ws.protocol.close_rcvd
    sent, rcvd = run(go())
    assert sent is not None and sent.code == code
    assert rcvd is not None, "server did not answer the close frame"
    # RFC 6455 5.5.1: the endpoint typically echoes the status code it received
    assert rcvd.code == code, f"server answered close {rcvd.code} {rcvd.reason!r}, expected {code}"


def test_server_graceful_shutdown_sends_1001(start_server):
    srv = start_server()

    async def go():
        async with client(srv.url) as ws:
            await ws.send("x")
            assert await asyncio.wait_for(ws.recv(), 5) == "x"
            srv.proc.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.protocol.close_rcvd
    rcvd = run(go())
    assert rcvd is not None, "server dropped the TCP connection without a close frame"
    assert rcvd.code == 1001
    srv.proc.wait(timeout=10)


# --- subprotocol negotiation -------------------------------------------------

def test_subprotocol_offered_and_chosen_in_server_order(start_server):
    srv = start_server("--subprotocol", "a", "--subprotocol", "b")

    async def go():
        async with client(srv.url, subprotocols=["b", "a"]) as ws:
            chosen = ws.subprotocol
            header = ws.response.headers.get_all("Sec-WebSocket-Protocol")
            await ws.send("hi")
            return chosen, header, await asyncio.wait_for(ws.recv(), 5)
    chosen, header, echoed = run(go())
    assert chosen == "a", "server must pick by its own preference order (a before b)"
    assert header == ["a"]
    assert echoed == "hi"  # the subprotocol handler on /echo echoes


def test_subprotocol_only_one_matches(start_server):
    srv = start_server("--subprotocol", "a", "--subprotocol", "b")

    async def go():
        async with client(srv.url, subprotocols=["zzz", "b"]) as ws:
            return ws.subprotocol
    assert run(go()) == "b"


def test_subprotocol_none_acceptable(start_server):
    srv = start_server("--subprotocol", "a", "--subprotocol", "b")

    async def go():
        async with client(srv.url, subprotocols=["c", "d"]) as ws:
            header = ws.response.headers.get_all("Sec-WebSocket-Protocol")
            await ws.send("still works")
            return ws.subprotocol, header, await asyncio.wait_for(ws.recv(), 5)
    chosen, header, echoed = run(go())
    assert chosen is None
    assert header == [], "no Sec-WebSocket-Protocol header when nothing matched"
    assert echoed == "still works"


def test_subprotocol_none_offered_without_requirement(start_server):
    srv = start_server("--subprotocol", "a")

    async def go():
        async with client(srv.url) as ws:
            return ws.subprotocol
    assert run(go()) is None


def test_subprotocol_required_but_missing(start_server):
    srv = start_server("--subprotocol", "a", "--subprotocol", "b", "--require-subprotocol")

    async def go():
        async with client(srv.url):
            pass
    with pytest.raises(InvalidStatus) as exc:
        run(go())
    assert exc.value.response.status_code == 400


def test_subprotocol_required_none_acceptable(start_server):
    srv = start_server("--subprotocol", "a", "--require-subprotocol")

    async def go():
        async with client(srv.url, subprotocols=["c"]):
            pass
    with pytest.raises(InvalidStatus) as exc:
        run(go())
    assert exc.value.response.status_code == 400


def test_subprotocol_required_and_offered(start_server):
    srv = start_server("--subprotocol", "a", "--require-subprotocol")

    async def go():
        async with client(srv.url, subprotocols=["a"]) as ws:
            await ws.send("ok")
            return ws.subprotocol, await asyncio.wait_for(ws.recv(), 5)
    assert run(go()) == ("a", "ok")


# --- plain HTTP and handshake refusals ------------------------------------------

def test_unknown_path_is_404(server):
    async def go():
        async with client(server.base + "/no-such-path"):
            pass
    with pytest.raises(InvalidStatus) as exc:
        run(go())
    assert exc.value.response.status_code == 404


def http_get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Sec-WebSocket-Version"), resp.read()
    finally:
        conn.close()


def test_plain_get_on_websocket_route_is_426(server):
    status, version, _ = http_get(server.port, "/echo")
    assert status == 426
    assert version is not None and version.strip() == "13"


def test_health(server):
    status, _, body = http_get(server.port, "/health")
    assert status == 200
    assert body.strip() == b"ok"


def test_plain_get_unknown_path_is_404(server):
    status, _, _ = http_get(server.port, "/no-such-path")
    assert status == 404


def test_wrong_websocket_version_is_426(server):
    # RFC 6455 4.2.2 / 4.4: unsupported version -> 426 with Sec-WebSocket-Version: 13
    status, version, _ = http_get(server.port, "/echo", {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "8",
    })
    assert status == 426
    assert version is not None and version.strip() == "13"


def test_missing_key_is_400(server):
    status, _, _ = http_get(server.port, "/echo", {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
    })
    assert status == 400


def test_server_survives_many_connections(server):
    async def one(i):
        async with client(server.url) as ws:
            await ws.send(f"c{i}")
            return await asyncio.wait_for(ws.recv(), 10)
    async def go():
        return await asyncio.gather(*(one(i) for i in range(50)))
    assert run(go(), timeout=60) == [f"c{i}" for i in range(50)]
