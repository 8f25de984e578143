"""permessage-deflate (RFC 7692) against Python `websockets` 17.4, both roles.

1. A Python CLIENT (ClientPerMessageDeflateFactory, every combination of the
   parameters it can offer) against `switchboard serve`: the negotiated
   Sec-WebSocket-Extensions is the one our rules give, and compressible and
   incompressible text and binary messages of 10 B to 1 MiB come back intact,
   compressed (RSV1) both ways.
2. `switchboard connect --echo` against a Python SERVER
   (ServerPerMessageDeflateFactory, every combination it can be configured
   with): stderr says `extensions: permessage-deflate`, the response carries
   the expected parameters and the echo is intact and compressed both ways.
3. Window 8: a client offering client_max_window_bits=8 is served (we inflate
   with an 8-bit window); a server forcing client_max_window_bits=8 on our
   client makes it fail cleanly (exit 1, an `error:` line), because zlib
   cannot compress with an 8-bit window and we never compress with a larger
   window than was agreed.

Expectations follow serve's PerMessageDeflate defaults: our compressor's
window 12 bits, the window asked of the peer 12 bits, no context-takeover
parameters of our own, messages under 64 bytes sent uncompressed.
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import json
import os
import random
import subprocess

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.headers import parse_extension

from conftest import STARTUP_TIMEOUT, Proc, free_port, switchboard_bin

MiB = 1 << 20
OUR_WINDOW = 12        # PerMessageDeflate.Configuration.maxWindowBits default
OUR_PEER_WINDOW = 12   # PerMessageDeflate.Configuration.peerMaxWindowBits default
THRESHOLD = 64         # PerMessageDeflate.Configuration.compressionThreshold default


def run(coro, timeout=90.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


# --- payloads -------------------------------------------------------------------

def compressible_text(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words = ["alpha", "bravo", "caf\u00e9", "delta", "echo", "\u2603", "golf"]
    out, n = [], 0
    while n < size:
        w = rng.choice(words) + " "
        out.append(w)
        n += len(w.encode())
    text = "".join(out).encode()[:size].decode("utf-8", "ignore")
    return text + "x" * (size - len(text.encode()))


def incompressible_text(size: int, seed: int) -> str:
    rng = random.Random(seed)
    chars, n = [], 0
    while n < size:
        room = size - n
        cp = rng.choice([rng.randrange(0x20, 0x7F)] + ([rng.randrange(0x80, 0x800)] if room >= 2 else [])
                        + ([rng.randrange(0x4E00, 0x9FFF)] if room >= 3 else [])
                        + ([rng.randrange(0x1F300, 0x1F64F)] if room >= 4 else []))
        chars.append(chr(cp))
        n += len(chr(cp).encode())
    return "".join(chars)


def compressible_binary(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    blocks = [bytes(rng.randrange(256) for _ in range(16)) for _ in range(8)]
    return b"".join(rng.choice(blocks) for _ in range(size // 16 + 1))[:size]


def incompressible_binary(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@functools.lru_cache(maxsize=None)
def payloads(sizes) -> tuple:
    """(name, message) for text and binary, compressible and not, of each size."""
    out = []
    for size in sizes:
        out.append((f"text/{size}/z", compressible_text(size, size)))
        out.append((f"text/{size}/r", incompressible_text(size, size + 1)))
        out.append((f"binary/{size}/z", compressible_binary(size, size + 2)))
        out.append((f"binary/{size}/r", incompressible_binary(size, size + 3)))
    for name, message in out:
        length = len(message.encode()) if isinstance(message, str) else len(message)
        assert length == int(name.split("/")[1]), name
    return tuple(out)


SMALL = (10, 1024, 64 * 1024)
ALL = (10, 1024, 64 * 1024, MiB)


# --- watching RSV1 ----------------------------------------------------------------

def watch_rsv1(ws) -> dict:
    """Count, in the negotiated permessage-deflate of `ws`, the data frames that
    arrive and leave with RSV1 set (compressed) and clear."""
    seen = {"in_compressed": 0, "in_plain": 0, "out_compressed": 0, "out_plain": 0}
    exts = [e for e in ws.protocol.extensions if e.name == "permessage-deflate"]
    assert exts, f"permessage-deflate not negotiated: {ws.protocol.extensions}"
    ext = exts[0]
    decode, encode = ext.decode, ext.encode

    def counting_decode(frame, *, max_size=None):
        if frame.opcode.name in ("TEXT", "BINARY"):
            seen["in_compressed" if frame.rsv1 else "in_plain"] += 1
        return decode(frame, max_size=max_size)

    def counting_encode(frame):
        out = encode(frame)
        if out.opcode.name in ("TEXT", "BINARY"):
            seen["out_compressed" if out.rsv1 else "out_plain"] += 1
        return out

    ext.decode, ext.encode = counting_decode, counting_encode
    return seen


async def echo_all(ws, messages, timeout=30.0):
    """Send each message twice (the second can use the first's context) and check the echoes."""
    for name, message in messages:
        for _ in range(2):
            await ws.send(message)
            echoed = await asyncio.wait_for(ws.recv(), timeout)
            assert type(echoed) is type(message), name
            assert echoed == message, f"{name}: echo differs (len {len(echoed)} vs {len(message)})"


def params_of(header_value: str | None) -> dict | None:
    """`permessage-deflate; a; b=1` -> {"a": None, "b": "1"}; None when absent."""
    if header_value is None:
        return None
    [(name, params)] = parse_extension(header_value)
    assert name == "permessage-deflate", header_value
    names = [p for p, _ in params]
    assert len(names) == len(set(names)), f"duplicate parameter in {header_value!r}"
    return dict(params)


# === 1. Python client -> switchboard serve ===========================================

@pytest.fixture(scope="module")
def deflate_server():
    port = free_port()
    proc = Proc([switchboard_bin(), "serve", "--host", "127.0.0.1", "--port", port, "--ping-interval", "0"])
    try:
        proc.wait_line(lambda l: "listening on" in l, timeout=STARTUP_TIMEOUT)
        yield f"ws://127.0.0.1:{port}/echo", proc
    finally:
        proc.stop()


def expected_server_response(snct, cnct, smwb, cmwb) -> dict:
    """What our server answers to one offer (RFC 7692 §7.1, our defaults)."""
    expected = {}
    if snct:
        expected["server_no_context_takeover"] = None      # §7.1.1.1: granted
    # client_no_context_takeover: noted, never echoed (requestPeerNoContextTakeover is off).
    if smwb is not None:
        expected["server_max_window_bits"] = str(min(OUR_WINDOW, smwb))  # §7.1.2.1: at most the offer
    if cmwb is True:
        expected["client_max_window_bits"] = str(OUR_PEER_WINDOW)      # §7.1.2.2: value-less: we choose
    elif cmwb is not None:
        expected["client_max_window_bits"] = str(min(OUR_PEER_WINDOW, cmwb))
    return expected


CLIENT_COMBOS = list(itertools.product(
    [False, True],                 # server_no_context_takeover
    [False, True],                 # client_no_context_takeover
    [None, 9, 10, 12, 15],         # server_max_window_bits (8: see test_client_offer_server_window_8_...)
    [None, True, 9, 11, 15],       # client_max_window_bits (True: offered without a value)
))


def combo_id(combo):
    snct, cnct, smwb, cmwb = combo
    return f"snct={int(snct)}-cnct={int(cnct)}-smwb={smwb}-cmwb={'novalue' if cmwb is True else cmwb}"


@pytest.mark.parametrize("combo", CLIENT_COMBOS, ids=[combo_id(c) for c in CLIENT_COMBOS])
def test_python_client_offer_combinations(deflate_server, combo):
    url, server_proc = deflate_server
    snct, cnct, smwb, cmwb = combo
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=snct, client_no_context_takeover=cnct,
        server_max_window_bits=smwb, client_max_window_bits=cmwb)
    # 1 MiB messages in a quarter of the combinations, so the run stays short.
    sizes = ALL if CLIENT_COMBOS.index(combo) % 4 == 0 else SMALL

    async def main():
        async with connect(url, extensions=[factory], compression=None, max_size=16 * MiB,
                           ping_interval=None, open_timeout=20) as ws:
            header = ws.response.headers.get("Sec-WebSocket-Extensions")
            seen = watch_rsv1(ws)
            await echo_all(ws, payloads(sizes))
            return header, seen

    header, seen = run(main())
    assert params_of(header) == expected_server_response(*combo), f"response {header!r}\n{server_proc.dump()}"
    # Python compresses every message; we compress every message >= 64 B (all but the 10 B ones).
    n = 8 * len(sizes)
    assert seen["out_compressed"] == n and seen["out_plain"] == 0, seen
    assert seen["in_compressed"] == n - 8 and seen["in_plain"] == 8, seen


def test_python_client_default_offer(deflate_server):
    """websockets' own default (compression="deflate"): client_max_window_bits without a value."""
    url, _ = deflate_server

    async def main():
        async with connect(url, max_size=16 * MiB, ping_interval=None, open_timeout=20) as ws:
            await echo_all(ws, payloads(ALL))
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    assert params_of(run(main())) == {"client_max_window_bits": str(OUR_PEER_WINDOW)}


def test_client_offer_server_window_8_declined_then_next_offer_taken(deflate_server):
    """§7.1: zlib cannot compress with an 8-bit window, so an offer of
    server_max_window_bits=8 is declined and the next offer is accepted."""
    url, _ = deflate_server
    first = ClientPerMessageDeflateFactory(server_max_window_bits=8, client_max_window_bits=None)
    second = ClientPerMessageDeflateFactory(server_no_context_takeover=True)

    async def main():
        async with connect(url, extensions=[first, second], compression=None, ping_interval=None, open_timeout=20) as ws:
            offer = ws.request.headers.get("Sec-WebSocket-Extensions")
            seen = watch_rsv1(ws)
            await echo_all(ws, payloads(SMALL))
            return offer, ws.response.headers.get("Sec-WebSocket-Extensions"), seen

    offer, response, seen = run(main())
    assert offer.count("permessage-deflate") == 2, offer
    assert params_of(response) == {"server_no_context_takeover": None, "client_max_window_bits": str(OUR_PEER_WINDOW)}
    assert seen["in_compressed"] > 0


def test_client_offer_server_window_8_alone_means_no_compression(deflate_server):
    url, _ = deflate_server
    only = ClientPerMessageDeflateFactory(server_max_window_bits=8)

    async def main():
        async with connect(url, extensions=[only], compression=None, ping_interval=None, open_timeout=20) as ws:
            await echo_all(ws, payloads(SMALL))
            return ws.response.headers.get("Sec-WebSocket-Extensions"), ws.protocol.extensions

    header, extensions = run(main())
    assert header is None and extensions == []


class Window8ClientFactory(ClientPerMessageDeflateFactory):
    """Offers client_max_window_bits=8, which websockets will not do because
    zlib cannot compress with an 8-bit window (madler/zlib#171).

    To send streams that are valid for a 256-byte window all the same, it
    compresses with zlib's smallest raw window (9 bits) WITHOUT context
    takeover and only sends messages shorter than 256 bytes: a back-reference
    then never reaches more than 255 bytes back, so every message decodes with
    an 8-bit window (RFC 7692 §7.1.2.2).
    """

    def __init__(self):
        super().__init__(client_max_window_bits=9)
        self.client_max_window_bits = 8   # past the constructor's check
        self.response_params = None

    def process_response_params(self, params, accepted_extensions):
        self.response_params = dict(params)
        server_bits = int(self.response_params.get("server_max_window_bits", 15))
        return PerMessageDeflate(
            "server_no_context_takeover" in self.response_params,  # remote_no_context_takeover
            True,          # local_no_context_takeover: each message is its own stream
            server_bits,   # remote_max_window_bits
            9,             # local_max_window_bits: what zlib can do; see the class comment
        )


def test_python_client_offering_client_window_8_is_served(deflate_server):
    """We inflate with an 8-bit window: an offer of client_max_window_bits=8 is
    accepted as is (§7.1.2.2: the response may not exceed the offered value)."""
    url, server_proc = deflate_server
    factory = Window8ClientFactory()
    rng = random.Random(8)
    messages = [(f"short/{i}", m) for i, m in enumerate([
        "abcabcabc" * 20,                                # 180 B, long matches at short distances
        compressible_text(255, 1),
        compressible_binary(200, 2),
        incompressible_binary(255, 3),
        "x" * 100,
        bytes(rng.randrange(4) for _ in range(250)),
    ])]

    async def main():
        async with connect(url, extensions=[factory], compression=None, ping_interval=None, open_timeout=20) as ws:
            assert ws.request.headers["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits=8"
            seen = watch_rsv1(ws)
            await echo_all(ws, messages)
            return ws.response.headers.get("Sec-WebSocket-Extensions"), seen

    header, seen = run(main())
    assert params_of(header) == {"client_max_window_bits": "8"}, f"{header!r}\n{server_proc.dump()}"
    assert factory.response_params == {"client_max_window_bits": "8"}
    assert seen["out_compressed"] == 2 * len(messages) and seen["in_compressed"] == 2 * len(messages), seen


# === 2. switchboard connect --echo -> Python server ==================================

def start_connect(url, *extra) -> Proc:
    return Proc([switchboard_bin(), "connect", url, *extra], stdin=subprocess.DEVNULL)


async def with_python_server(handler, factory, timeout=60.0, connect_args=("--echo",)):
    """Serve `handler` with permessage-deflate `factory` and run `switchboard connect --echo` against it.
    Returns (handler result or exception, client exit status, client Proc)."""
    outcome = asyncio.get_running_loop().create_future()

    async def wrapped(ws):
        try:
            result = await handler(ws)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            if not outcome.done():
                outcome.set_exception(exc)
            raise
        if not outcome.done():
            outcome.set_result(result)

    async with serve(wrapped, "127.0.0.1", 0, extensions=[factory], compression=None,
                     max_size=16 * MiB, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        proc = start_connect(f"ws://127.0.0.1:{port}/", *connect_args)
        try:
            done, _ = await asyncio.wait({outcome}, timeout=timeout)
            if not done:
                raise AssertionError(f"server handler did not finish within {timeout}s\n{proc.dump()}")
            try:
                rc = await asyncio.to_thread(proc.wait, 20)
            finally:
                await asyncio.to_thread(proc.stop)
        finally:
            await asyncio.to_thread(proc.stop)
        exc = outcome.exception()
        return (exc if exc is not None else outcome.result()), rc, proc


SERVER_COMBOS = list(itertools.product(
    [False, True],                 # server_no_context_takeover
    [False, True],                 # client_no_context_takeover
    [None, 9, 10, 12, 15],         # server_max_window_bits (9..15; 8 is refused by websockets)
    [None, 9, 11, 15],             # client_max_window_bits (8: see test_python_server_forcing_...)
))


def expected_python_response(snct, cnct, smwb, cmwb) -> dict:
    """websockets' answer to our offer `permessage-deflate; client_max_window_bits; server_max_window_bits=12`."""
    expected = {}
    if snct:
        expected["server_no_context_takeover"] = None
    if cnct:
        expected["client_no_context_takeover"] = None
    expected["server_max_window_bits"] = str(min(smwb or OUR_PEER_WINDOW, OUR_PEER_WINDOW))
    if cmwb is not None:
        expected["client_max_window_bits"] = str(cmwb)
    return expected


@pytest.mark.parametrize("combo", SERVER_COMBOS, ids=[combo_id(c) for c in SERVER_COMBOS])
def test_switchboard_client_against_python_server_variants(combo):
    snct, cnct, smwb, cmwb = combo
    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=snct, client_no_context_takeover=cnct,
        server_max_window_bits=smwb, client_max_window_bits=cmwb)
    sizes = ALL if SERVER_COMBOS.index(combo) % 4 == 0 else SMALL

    async def handler(ws):
        seen = watch_rsv1(ws)
        await echo_all(ws, payloads(sizes))
        await ws.close(1000)
        return (ws.request.headers.get("Sec-WebSocket-Extensions"),
                ws.response.headers.get("Sec-WebSocket-Extensions"), seen)

    result, rc, proc = run(with_python_server(handler, factory))
    if isinstance(result, BaseException):
        raise AssertionError(f"server handler failed: {result!r}\n{proc.dump()}") from result
    offer, response, seen = result
    assert params_of(offer) == {"client_max_window_bits": None, "server_max_window_bits": str(OUR_PEER_WINDOW)}, offer
    assert params_of(response) == expected_python_response(*combo), response
    assert rc == 0, proc.dump()
    assert "extensions: permessage-deflate" in proc.err, proc.dump()
    assert any(l.startswith("closed: 1000") for l in proc.err), proc.dump()
    n = 8 * len(sizes)
    assert seen["out_compressed"] == n, seen                      # websockets compresses everything
    assert seen["in_compressed"] == n - 8 and seen["in_plain"] == 8, seen  # we compress all but 10 B


def test_python_server_forcing_client_window_8_fails_our_client_cleanly():
    """A response with client_max_window_bits=8 cannot be honoured: zlib does not
    compress with an 8-bit window and we never compress with a larger window
    than agreed (§7.1.2.2), so the client fails the connection: exit 1 and an
    `error:` line, no crash."""
    factory = ServerPerMessageDeflateFactory(client_max_window_bits=8)

    async def handler(ws):
        try:
            await asyncio.wait_for(ws.wait_closed(), 20)
        except asyncio.TimeoutError:
            return "client kept the connection open"
        return ws.response.headers.get("Sec-WebSocket-Extensions")

    result, rc, proc = run(with_python_server(handler, factory))
    assert not isinstance(result, BaseException), repr(result)
    assert params_of(result) == {"server_max_window_bits": str(OUR_PEER_WINDOW), "client_max_window_bits": "8"}, result
    assert rc == 1, proc.dump()
    errors = [l for l in proc.err if l.startswith("error:")]
    assert errors and "client_max_window_bits" in errors[0], proc.dump()
    assert not any("extensions: permessage-deflate" in l for l in proc.err), proc.dump()
    assert not any("Fatal error" in l or "Crash" in l for l in proc.err), proc.dump()


def test_switchboard_client_no_deflate_offers_nothing():
    factory = ServerPerMessageDeflateFactory()

    async def handler(ws):
        await echo_all(ws, payloads(SMALL))
        await ws.close(1000)
        return ws.request.headers.get("Sec-WebSocket-Extensions"), ws.protocol.extensions

    result, rc, proc = run(with_python_server(handler, factory, connect_args=("--echo", "--no-deflate")))
    assert not isinstance(result, BaseException), repr(result)
    assert result == (None, []), result
    assert rc == 0 and "extensions: none" in proc.err, proc.dump()


# === 3. switchboard bench --deflate -> Python server =================================
# The load generator sends each payload variant compressed once, alone, by a fresh
# compressor (BenchEncodedFrames), even under context takeover. A real decoder that
# keeps its window must take those frames: run the generator against websockets'
# echo server, with context takeover on both sides, and check every echo.

@pytest.mark.parametrize("kind", ["text", "binary"])
@pytest.mark.parametrize("size", [16, 300, 5000])
@pytest.mark.parametrize("client_window", [None, 10])
def test_bench_precompressed_frames_against_python_server(kind, size, client_window):
    factory = ServerPerMessageDeflateFactory(client_max_window_bits=client_window)
    seen_by_connection = []

    async def echo(ws):
        seen_by_connection.append(watch_rsv1(ws))
        async for message in ws:
            await ws.send(message)

    async def scenario():
        async with serve(echo, "127.0.0.1", 0, extensions=[factory], compression=None,
                         max_size=16 * MiB, ping_interval=None) as server:
            port = server.sockets[0].getsockname()[1]
            proc = Proc([switchboard_bin(), "bench", f"ws://127.0.0.1:{port}/", "--deflate", f"--{kind}",
                         "-c", "2", "-s", str(size), "-d", "0.5", "--warmup", "0.2", "--json"])
            try:
                rc = await asyncio.to_thread(proc.wait, 30)
            finally:
                await asyncio.to_thread(proc.stop)
            return rc, proc

    rc, proc = run(scenario())
    assert rc == 0, proc.dump()
    result = json.loads([l for l in proc.out if l.startswith("{")][-1])
    assert result["extensions"] == ["permessage-deflate"], result
    assert result["mismatches"] == 0 and result["errors"] == 0, result
    assert result["messages"] > 0, result
    assert len(seen_by_connection) == 2, seen_by_connection
    for seen in seen_by_connection:
        if size < THRESHOLD:  # below the compression threshold, sent as is
            assert seen["in_compressed"] == 0 and seen["in_plain"] > 0, seen
        else:
            assert seen["in_compressed"] > 0 and seen["in_plain"] == 0, seen
