"""`switchboard connect` as the CLIENT against a Python `websockets` SERVER
(and against tiny raw-socket servers that answer a broken handshake)."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess

import pytest
from websockets.asyncio.server import serve

from conftest import Proc, switchboard_bin

MiB = 1 << 20
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def run(coro, timeout=60.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def start_connect(url, *extra, stdin=subprocess.DEVNULL) -> Proc:
    return Proc([switchboard_bin(), "connect", url, *extra], stdin=stdin)


async def finish(proc: Proc, timeout=15.0) -> int:
    """Wait (off the event loop) for the client to exit; kill it if it doesn't."""
    try:
        return await asyncio.to_thread(proc.wait, timeout)
    finally:
        await asyncio.to_thread(proc.stop)


async def with_server(handler, client_args, timeout=30.0, **serve_kw):
    """Serve `handler` on a free port, run `switchboard connect ws://.../path client_args`.

    The handler gets the server connection; whatever it returns (or raises) is
    collected. Returns (handler result, client exit status, client Proc).
    """
    outcome: asyncio.Future = asyncio.get_running_loop().create_future()

    async def wrapped(ws):
        try:
            result = await handler(ws)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            if not outcome.done():
                outcome.set_exception(exc)
            raise
        else:
            if not outcome.done():
                outcome.set_result(result)

    serve_kw.setdefault("compression", None)
    serve_kw.setdefault("max_size", 16 * MiB)
    serve_kw.setdefault("ping_interval", None)
    async with serve(wrapped, "127.0.0.1", 0, **serve_kw) as server:
        port = server.sockets[0].getsockname()[1]
        path, *rest = client_args
        proc = start_connect(f"ws://127.0.0.1:{port}{path}", *rest)
        try:
            done, _ = await asyncio.wait({outcome}, timeout=timeout)
            if not done:
                raise AssertionError(f"server handler did not finish within {timeout}s\n{proc.dump()}")
            result = outcome.result()
            rc = await finish(proc)
        finally:
            await asyncio.to_thread(proc.stop)
            if outcome.done() and not outcome.cancelled():
                outcome.exception()  # retrieved: no "never retrieved" noise on failure
        return result, rc, proc


async def expect_echo(ws, message, timeout=20.0):
    await ws.send(message)
    echoed = await asyncio.wait_for(ws.recv(), timeout)
    assert type(echoed) is type(message if not isinstance(message, list) else message[0])
    expected = message if not isinstance(message, list) else type(message[0])().join(message)
    assert echoed == expected, f"echo differs (len {len(echoed)} vs {len(expected)})"


# --- --echo mode ----------------------------------------------------------------

def test_echo_client_messages_ping_and_close():
    big_text = ("abcdefghijklmno\u00e9" * (MiB // 17 + 1))[:MiB]
    big_binary = os.urandom(MiB)

    async def handler(ws):
        await expect_echo(ws, "hello")
        await expect_echo(ws, "")
        await expect_echo(ws, "h\u00e9llo \u2603 \U0001F600")
        await expect_echo(ws, b"\x00\x01\xfe\xff")
        await expect_echo(ws, b"")
        await expect_echo(ws, ["frag", "men", "ted"])               # fragmented text
        await expect_echo(ws, [os.urandom(100) for _ in range(5)])  # fragmented binary
        await expect_echo(ws, big_text, timeout=30)
        await expect_echo(ws, big_binary, timeout=30)
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        await expect_echo(ws, "after ping")
        await ws.close(4001, "bye")
        return "ok"

    result, rc, proc = run(with_server(handler, ["/", "--echo"]))
    assert result == "ok"
    assert rc == 0, proc.dump()
    assert "closed: 4001 bye" in proc.err, proc.dump()


def test_echo_client_close_1000():
    async def handler(ws):
        await expect_echo(ws, "x")
        await ws.close(1000)
        return ws.protocol.close_rcvd

    rcvd, rc, proc = run(with_server(handler, ["/", "--echo"]))
    assert rc == 0, proc.dump()
    assert rcvd is not None and rcvd.code == 1000, "client must answer the close frame with the same code"
    assert any(l.startswith("closed: 1000") for l in proc.err), proc.dump()


def test_echo_client_reports_handshake_details():
    async def handler(ws):
        headers = ws.request.headers
        await ws.close(1000)
        return headers

    headers, rc, proc = run(with_server(handler, ["/some/path?q=1", "--echo", "--header", "X-Test: yes"]))
    assert rc == 0, proc.dump()
    assert headers.get("X-Test") == "yes"
    assert headers.get("Sec-WebSocket-Version") == "13"
    assert "subprotocol: none" in proc.err, proc.dump()
    assert any(l.startswith("extensions:") for l in proc.err), proc.dump()


def test_echo_client_request_path_and_query():
    async def handler(ws):
        path = ws.request.path
        await ws.close(1000)
        return path

    path, rc, proc = run(with_server(handler, ["/some/path?q=1&agent=x", "--echo"]))
    assert rc == 0, proc.dump()
    assert path == "/some/path?q=1&agent=x"


# --- subprotocols ---------------------------------------------------------------

def test_client_subprotocol_chosen():
    async def handler(ws):
        offered = ws.request.headers.get_all("Sec-WebSocket-Protocol")
        chosen = ws.subprotocol
        await ws.close(1000)
        return offered, chosen

    (offered, chosen), rc, proc = run(with_server(
        handler, ["/", "--echo", "--subprotocol", "y", "--subprotocol", "x"], subprotocols=["x", "y"]))
    assert rc == 0, proc.dump()
    assert ",".join(offered).replace(" ", "") == "y,x"
    assert chosen == "x"  # websockets picks in its own (server) order
    assert "subprotocol: x" in proc.err, proc.dump()


def test_client_subprotocol_none_acceptable():
    # the server answers no subprotocol: allowed (RFC 6455 4.1), the client goes on
    def select(conn, offered):
        return None

    async def handler(ws):
        await expect_echo(ws, "still fine")
        await ws.close(1000)
        return ws.subprotocol

    chosen, rc, proc = run(with_server(
        handler, ["/", "--echo", "--subprotocol", "q"], subprotocols=["x"], select_subprotocol=select))
    assert chosen is None
    assert rc == 0, proc.dump()
    assert "subprotocol: none" in proc.err, proc.dump()


@pytest.mark.parametrize("offer", [["--subprotocol", "a"], []], ids=["offered-other", "offered-none"])
def test_client_rejects_unoffered_subprotocol(offer):
    # websockets' select_subprotocol hook does not check what it returns, so a
    # server can answer a token the client never offered: the client must fail
    def select(conn, offered):
        return "evil"

    async def handler(ws):
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except Exception:  # noqa: BLE001 - the client is expected to drop the connection
            pass
        return ws.subprotocol

    chosen, rc, proc = run(with_server(handler, ["/", "--echo", *offer], subprotocols=["evil"],
                                       select_subprotocol=select))
    assert chosen == "evil"
    assert rc == 1, proc.dump()
    assert any(l.startswith("error:") for l in proc.err), proc.dump()


# --- interactive (stdin/stdout) mode -----------------------------------------------

def test_interactive_lines_and_eof_close():
    async def handler(ws):
        await ws.send(b"\x01\x02\x03\x04\x05")           # printed as "binary 5 bytes"
        got = []
        async for msg in ws:                              # echo until the client closes
            got.append(msg)
            await ws.send(msg)
        return got, ws.protocol.close_rcvd

    async def go():
        outcome = asyncio.get_running_loop().create_future()

        async def wrapped(ws):
            try:
                outcome.set_result(await handler(ws))
            except BaseException as exc:  # noqa: BLE001
                outcome.set_exception(exc)

        async with serve(wrapped, "127.0.0.1", 0, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            proc = start_connect(f"ws://127.0.0.1:{port}/", stdin=subprocess.PIPE)
            try:
                await asyncio.to_thread(proc.wait_line, lambda l: l == "binary 5 bytes", "out", 10)
                proc.proc.stdin.write("first line\nsecond \u00e9\n".encode())
                proc.proc.stdin.flush()
                await asyncio.to_thread(proc.wait_line, lambda l: l == "second \u00e9", "out", 10)
                proc.proc.stdin.close()                   # EOF -> close 1000
                got, rcvd = await asyncio.wait_for(outcome, 10)
                rc = await finish(proc)
            finally:
                await asyncio.to_thread(proc.stop)
                if outcome.done() and not outcome.cancelled():
                    outcome.exception()  # retrieved: no "never retrieved" noise on failure
            return got, rcvd, rc, proc

    got, rcvd, rc, proc = run(go())
    assert got == ["first line", "second \u00e9"]
    assert rcvd is not None and rcvd.code == 1000
    assert rc == 0, proc.dump()
    assert proc.out[:3] == ["binary 5 bytes", "first line", "second \u00e9"], proc.dump()


# --- broken handshakes from a raw server -------------------------------------------

def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def good_response(key):
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_for(key)}\r\n")


BROKEN = {
    "bad-accept": lambda key: ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               f"Sec-WebSocket-Accept: {accept_for(key + 'x')}\r\n"),
    "missing-accept": lambda key: ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"),
    "missing-upgrade": lambda key: ("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                    f"Sec-WebSocket-Accept: {accept_for(key)}\r\n"),
    "wrong-upgrade": lambda key: good_response(key).replace("Upgrade: websocket", "Upgrade: h2c"),
    "status-200": lambda key: good_response(key).replace("101 Switching Protocols", "200 OK")
                              + "Content-Length: 0\r\n",
    "status-403": lambda key: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n",
    "unoffered-subprotocol": lambda key: good_response(key) + "Sec-WebSocket-Protocol: evil\r\n",
    "unoffered-extension": lambda key: good_response(key) + "Sec-WebSocket-Extensions: x-unknown-ext\r\n",
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_client_fails_on_broken_handshake(kind):
    async def go():
        seen = asyncio.get_running_loop().create_future()

        async def handle(reader, writer):
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                key = ""
                for line in head.decode("latin-1").split("\r\n"):
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "sec-websocket-key":
                        key = v.strip()
                writer.write((BROKEN[kind](key) + "\r\n").encode())
                await writer.drain()
                if not seen.done():
                    seen.set_result(head)
                # keep the socket open: the client must give up by itself
                await asyncio.wait_for(reader.read(), 10)
            except Exception:  # noqa: BLE001
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            proc = start_connect(f"ws://127.0.0.1:{port}/", "--echo")
            try:
                await asyncio.wait_for(seen, 10)
                rc = await finish(proc, timeout=15)
            finally:
                await asyncio.to_thread(proc.stop)
            return rc, proc

    rc, proc = run(go())
    assert rc == 1, f"{kind}: client exit status {rc}\n{proc.dump()}"
    assert any(l.startswith("error:") for l in proc.err), proc.dump()


def test_client_connection_refused():
    from conftest import free_port
    proc = start_connect(f"ws://127.0.0.1:{free_port()}/", "--echo")
    try:
        rc = proc.wait(timeout=15)
    finally:
        proc.stop()
    assert rc == 1, proc.dump()
    assert any(l.startswith("error:") for l in proc.err), proc.dump()


def test_client_keeps_frame_sent_in_same_segment_as_101():
    # A server may write its first frame right behind the 101 response, so both
    # arrive in one read: the bytes after the response are WebSocket frames and
    # must reach the client's frame parser (websockets' server does this).
    async def go():
        echoed = asyncio.get_running_loop().create_future()

        async def handle(reader, writer):
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                key = ""
                for line in head.decode("latin-1").split("\r\n"):
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "sec-websocket-key":
                        key = v.strip()
                writer.write((good_response(key) + "\r\n").encode() + b"\x81\x05hello")
                await writer.drain()
                hdr = await asyncio.wait_for(reader.readexactly(2), 10)
                n = hdr[1] & 0x7F
                mask = await reader.readexactly(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(n)))
                echoed.set_result((hdr[0], data))
                writer.write(b"\x88\x02\x03\xe8")  # close 1000
                await writer.drain()
                await asyncio.wait_for(reader.read(2), 10)  # the client's close frame; then the server closes TCP
            except Exception as exc:  # noqa: BLE001
                if not echoed.done():
                    echoed.set_exception(exc)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            proc = start_connect(f"ws://127.0.0.1:{port}/", "--echo")
            try:
                done, _ = await asyncio.wait({echoed}, timeout=10)
                got = echoed.result() if done else None
                rc = await finish(proc)
            finally:
                await asyncio.to_thread(proc.stop)
            return got, rc, proc

    got, rc, proc = run(go())
    assert got == (0x81, b"hello"), f"client did not echo the frame that came with the 101\n{proc.dump()}"
    assert rc == 0, proc.dump()
