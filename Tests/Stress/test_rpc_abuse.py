"""JSON-RPC abuse against the demo at /rpc: integer overflow, deep nesting, a huge
batch, huge strings, many concurrent calls, a subscribe flood. The client is
Tests/Interop/jsonrpc_client.py over Python `websockets`."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import stress  # noqa: F401 - puts Tests/Interop on sys.path
from jsonrpc_client import JsonRpcClient, JsonRpcError, check_response
from stress import MiB, OP_TEXT, RawConn, frame, send_until_blocked

INT_MAX, INT_MIN = (1 << 63) - 1, -(1 << 63)
NESTING = 100_000
BATCH = 100_000
RPC_LIMIT = MiB                  # the JSON-RPC layer's maxMessageSize default: larger is -32600
WS_LIMIT = 16 * MiB              # serve's --max-message-size default: larger is close 1009
CONCURRENT_CALLS = 10_000
SUBSCRIBES = 100_000             # sent as batches of SUBSCRIBE_BATCH (each entry is a call)
SUBSCRIBE_BATCH = 1000           # the demo's maxBatchLength
RPC_TIMEOUT = 30.0

OVERFLOWS = [
    ("sum", [INT_MAX, 1]),
    ("sum", [INT_MIN, -1]),
    ("sum", [INT_MAX, INT_MAX, INT_MIN, INT_MIN]),
    ("subtract", [INT_MIN, 1]),
    ("subtract", [0, INT_MIN]),
    ("subtract", {"minuend": INT_MAX, "subtrahend": -1}),
    ("sum", [1 << 64]),
    ("sum", [10 ** 30]),
    ("subscribe", [INT_MAX, INT_MAX]),
    ("subscribe", [-1, INT_MIN]),
    ("notify_sum", [INT_MAX, 1]),
]


def run(coro, timeout=60.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def rpc_url(srv) -> str:
    return f"{srv.base}/rpc"


@pytest.mark.parametrize("subprotocols", [["jsonrpc"], None], ids=["offers-jsonrpc", "offers-none"])
def test_integer_overflow_answers_an_error(stress, subprotocols):
    """Issue 17 #1: a peer's numbers must not trap the whole server."""
    srv = stress.start()
    with stress.measure("each overflowing call answered a JSON-RPC error; the server lives", settle=0.3) as m:
        async def main():
            async with connect(rpc_url(srv), subprotocols=subprotocols, open_timeout=10, close_timeout=2) as ws:
                client = JsonRpcClient(ws)
                out = []
                try:
                    for method, params in OVERFLOWS:
                        if method == "notify_sum":  # a notification: nothing is answered, the server must live
                            await client.notify(method, params)
                            continue
                        try:
                            result = await client.call(method, params, timeout=10)
                            out.append(f"{method} {params}: result {result!r}")
                        except JsonRpcError as e:
                            out.append(f"{method}: {e.code}")
                    out.append(f"sum [1,2] after: {await client.call('sum', [1, 2], timeout=10)}")
                finally:
                    await client.close()
                return out
        try:
            answers = run(main())
        except Exception as e:  # noqa: BLE001
            answers = [f"{type(e).__name__}: {e}"]
        codes: dict = {}
        for a in answers[:-1]:
            codes[a.split(": ", 1)[1]] = codes.get(a.split(": ", 1)[1], 0) + 1
        m.observed = (f"{len(answers) - 1} calls answered {codes}; " + answers[-1]
                      if answers[-1].startswith("sum [1,2] after") else "; ".join(answers)[:300])
    m.assert_healthy(peak_growth_mib=16, final_growth_mib=16)
    assert answers[-1] == "sum [1,2] after: 3", m.observed
    assert not any(": result " in a for a in answers), m.observed


def one_answer(srv, text: str) -> str:
    """Sends `text` on a new connection to /rpc: "error CODE" for the answer's error, "close CODE" when the
    server closes instead, or the answer itself, cut short."""
    async def main():
        async with connect(rpc_url(srv), open_timeout=10, close_timeout=2, max_size=None) as ws:
            await ws.send(text)
            try:
                return check_response(json.loads(await asyncio.wait_for(ws.recv(), 20)))
            except ConnectionClosed as e:
                return f"close {e.rcvd.code if e.rcvd else None}"
    answer = run(main())
    if isinstance(answer, dict) and "error" in answer:
        return f"error {answer['error']['code']}"
    return str(answer)[:120]


def test_deep_nesting(stress):
    srv = stress.start()
    with stress.measure(f"{NESTING}-deep array: -32700 (or a close), server alive", settle=0.3) as m:
        m.observed = one_answer(srv, "[" * NESTING + "]" * NESTING)
    m.assert_healthy(peak_growth_mib=32, final_growth_mib=32)
    assert m.observed in ("error -32700",) or m.observed.startswith("close "), m.observed


def test_huge_batch(stress):
    srv = stress.start()
    body = "[" + ",".join(["{}"] * BATCH) + "]"  # 300 KB: under the 1 MiB parsing limit, past the batch limit
    with stress.measure(f"{BATCH}-entry batch: one -32600 error", settle=0.3) as m:
        async def main():
            async with connect(rpc_url(srv), open_timeout=10, close_timeout=2, max_size=None) as ws:
                await ws.send(body)
                return json.loads(await asyncio.wait_for(ws.recv(), 20))
        answer = run(main())
        if isinstance(answer, dict):
            check_response(answer)
            m.observed = f"one object, error {answer.get('error', {}).get('code')}"
        else:
            m.observed = f"an array of {len(answer)} answers"
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert m.observed == "one object, error -32600", m.observed


def test_a_megabyte_of_empty_objects(stress):
    """The parse tree of a message just under the 1 MiB limit holds ~350,000 empty objects.
    Each costs only its array slot while it has no member: an object that reserved room for
    members up front (one allocation of ~400 B each) made this message pin 136 MiB; 14 MiB
    without."""
    srv = stress.start()
    body = "[" + ",".join(["{}"] * ((RPC_LIMIT - 2) // 3)) + "]"
    with stress.measure(f"{len(body) / MiB:.2f} MiB batch of empty objects: one -32600, memory near the message's size", settle=0.3) as m:
        m.observed = one_answer(srv, body)
    m.assert_healthy(peak_growth_mib=40, final_growth_mib=40)
    assert m.observed == "error -32600", m.observed


def huge_call(size: int) -> bytes:
    """A `sum` call of `size` bytes, nearly all of it one string."""
    prefix = b'{"jsonrpc":"2.0","method":"sum","id":7,"params":["'
    suffix = b'"]}'
    return prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix


def test_huge_string_past_the_rpc_limit(stress):
    srv = stress.start()
    size = 2 * RPC_LIMIT
    with stress.measure(f"a {size / MiB:.0f} MiB call (past the JSON-RPC 1 MiB limit): error -32600") as m:
        m.observed = one_answer(srv, huge_call(size).decode())
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert m.observed == "error -32600", m.observed


def test_huge_string_past_the_message_limit(stress):
    srv = stress.start("--no-deflate")
    size = WS_LIMIT + 1
    with stress.measure(f"a {size / MiB:.0f} MiB + 1 B call (past serve's message limit): close 1009") as m:
        conn = RawConn(srv.port, path="/rpc").start_reader()
        try:
            try:
                conn.send_raw(frame(OP_TEXT, huge_call(size)))
            except (BrokenPipeError, ConnectionResetError):
                pass
            conn.wait_end(15)
            m.observed = conn.outcome()
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert conn.code == 1009, m.observed


def test_10000_concurrent_calls(stress):
    srv = stress.start()
    with stress.measure(f"{CONCURRENT_CALLS} calls in flight on one connection: all answered, RSS bounded") as m:
        async def main():
            async with connect(rpc_url(srv), subprotocols=["jsonrpc"], open_timeout=10, close_timeout=2,
                               max_size=None) as ws:
                answered = {}

                async def reader():
                    while len(answered) < CONCURRENT_CALLS:
                        r = check_response(json.loads(await ws.recv()))
                        answered[r["id"]] = r

                task = asyncio.create_task(reader())
                for i in range(1, CONCURRENT_CALLS + 1):
                    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "sum", "params": [i, 1], "id": i}))
                try:
                    await asyncio.wait_for(task, RPC_TIMEOUT)
                except asyncio.TimeoutError:
                    pass
                wrong = [i for i, r in answered.items() if r.get("result") != i + 1]
                return len(answered), wrong
        count, wrong = run(main(), RPC_TIMEOUT + 20)
        m.observed = f"{count}/{CONCURRENT_CALLS} answered, {len(wrong)} wrong"
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert count == CONCURRENT_CALLS and not wrong, m.observed


@pytest.mark.timeout(120)
def test_subscribe_flood(stress):
    """Issue 17 #7: background work a peer starts must be bounded per connection."""
    srv = stress.start()
    with stress.measure(f"{SUBSCRIBES} subscribes on one connection: later ones refused with an error, "
                        "RSS bounded") as m:
        async def main():
            async with connect(rpc_url(srv), subprotocols=["jsonrpc"], open_timeout=10, close_timeout=2,
                               max_size=None) as ws:
                ok = errors = 0
                codes: dict = {}
                next_id = 1
                for _ in range(SUBSCRIBES // SUBSCRIBE_BATCH):
                    batch = [{"jsonrpc": "2.0", "method": "subscribe", "params": [60_000, 100_000], "id": next_id + k}
                             for k in range(SUBSCRIBE_BATCH)]
                    next_id += SUBSCRIBE_BATCH
                    await ws.send(json.dumps(batch))
                    while True:  # skip tick notifications (none within 60 s) and wait for the batch answer
                        answer = json.loads(await asyncio.wait_for(ws.recv(), RPC_TIMEOUT))
                        if isinstance(answer, list):
                            break
                    for r in answer:
                        check_response(r)
                        if "error" in r:
                            errors += 1
                            codes[r["error"]["code"]] = codes.get(r["error"]["code"], 0) + 1
                        else:
                            ok += 1
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "sum", "params": [2, 3], "id": 0}))
                while True:
                    last = json.loads(await asyncio.wait_for(ws.recv(), RPC_TIMEOUT))
                    if isinstance(last, dict) and last.get("id") == 0:
                        break
                return ok, errors, codes, last.get("result")
        ok, errors, codes, after = run(main(), 90)
        m.rss()
        m.observed = f"{ok} subscriptions started, {errors} refused {codes}; sum after: {after}"
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert errors > 0 and ok < SUBSCRIBES, m.observed
    assert after == 5, m.observed


CALL_FLOOD_BYTES = 64 * MiB      # of small calls sent by a peer that never reads the answers


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", ["sum", "no_such_method"])
def test_call_flood_from_a_peer_that_never_reads(stress, method):
    """Calls to a method that does not await, and to an unknown one, are answered in the
    reading task itself (no task per call): a peer that never reads the answers must stop
    that task at the outbound bound, and the server must stop reading it."""
    srv = stress.start()
    calls = b"".join(frame(OP_TEXT, json.dumps({"jsonrpc": "2.0", "method": method, "params": [i, 1], "id": i}).encode())
                     for i in range(2000))
    with stress.measure(f"{CALL_FLOOD_BYTES // MiB} MB of {method} calls from a peer that never reads: "
                        "the server stops reading (throttled), RSS bounded") as m:
        conn = RawConn(srv.port, path="/rpc", rcvbuf=4096)
        try:
            sent, how = send_until_blocked(conn, calls, CALL_FLOOD_BYTES, 2.0, time.monotonic() + 45)
            m.rss()
            m.observed = f"{sent / MiB:.1f} MB of calls taken, then {how}"
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert how in ("throttled", "closed"), m.observed
