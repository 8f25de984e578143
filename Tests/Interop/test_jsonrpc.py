"""JSON-RPC 2.0 interop: a spec-following Python client (jsonrpc_client.py,
over `websockets`) against the demo service of `switchboard serve` at /rpc,
offering the `jsonrpc` subprotocol and offering none."""
from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from websockets.asyncio.client import connect

from conftest import switchboard_bin
from jsonrpc_client import JsonRpcClient, JsonRpcError, check_response

OFFERS = pytest.mark.parametrize("subprotocols", [["jsonrpc"], None], ids=["offers-jsonrpc", "offers-none"])


def run(coro, timeout=30.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


async def session(server, subprotocols, body, compression=None):
    async with connect(f"{server.base}/rpc", subprotocols=subprotocols, compression=compression,
                       open_timeout=10, close_timeout=5) as ws:
        assert ws.subprotocol == (subprotocols[0] if subprotocols else None)
        client = JsonRpcClient(ws)
        try:
            return await body(client, ws)
        finally:
            await client.close()


async def no_answer(ws, within=0.3):
    """Nothing arrives within `within` seconds."""
    try:
        message = await asyncio.wait_for(ws.recv(), within)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected answer: {message}")


@OFFERS
def test_calls_by_position_and_by_name(server, subprotocols):
    async def body(client, ws):
        assert await client.call("subtract", [42, 23]) == 19
        assert await client.call("subtract", [23, 42]) == -19
        assert await client.call("subtract", {"subtrahend": 23, "minuend": 42}) == 19
        assert await client.call("subtract", {"minuend": 42, "subtrahend": 23}) == 19
        assert await client.call("sum", [1, 2, 4]) == 7
        assert await client.call("get_data") == ["hello", 5]
    run(session(server, subprotocols, body))


@OFFERS
def test_errors(server, subprotocols):
    async def body(client, ws):
        with pytest.raises(JsonRpcError) as e:
            await client.call("foobar")
        assert (e.value.code, e.value.message) == (-32601, "Method not found")
        with pytest.raises(JsonRpcError) as e:
            await client.call("subtract", {"minuend": 42})
        assert e.value.code == -32602 and "subtrahend" in e.value.message
        with pytest.raises(JsonRpcError) as e:
            await client.call("rpc.discover")
        assert e.value.code == -32601
        await ws.send('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
        orphan = await asyncio.wait_for(client.orphans.get(), 5)
        assert orphan == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        await ws.send('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
        orphan = await asyncio.wait_for(client.orphans.get(), 5)
        assert orphan == {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}
        await ws.send("[]")
        orphan = await asyncio.wait_for(client.orphans.get(), 5)
        assert orphan["error"]["code"] == -32600
    run(session(server, subprotocols, body))


@OFFERS
def test_notifications_are_not_answered(server, subprotocols):
    async def body(client, ws):
        await client.close()  # read by hand: nothing may come back
        await ws.send(json.dumps(JsonRpcClient.request("update", [1, 2, 3, 4, 5])))
        await ws.send(json.dumps(JsonRpcClient.request("foobar")))
        await ws.send(json.dumps([JsonRpcClient.request("notify_sum", [1, 2, 4]),
                                  JsonRpcClient.request("notify_hello", [7])]))
        await no_answer(ws)
        await ws.send(json.dumps(JsonRpcClient.request("sum", [1], id="after")))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert check_response(answer) == {"jsonrpc": "2.0", "result": 1, "id": "after"}
    run(session(server, subprotocols, body))


@OFFERS
def test_batch(server, subprotocols):
    async def body(client, ws):
        req = JsonRpcClient.request
        responses = await client.batch([
            req("sum", [1, 2, 4], id="1"),
            req("notify_hello", [7]),
            req("subtract", [42, 23], id="2"),
            req("foo.get", {"name": "myself"}, id="5"),
            req("get_data", id="9"),
        ])
        assert responses == [
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        ]
        # The specification's batch with an invalid member, read by hand.
        await client.close()
        await ws.send('[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"foo": "boo"}, 1]')
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert isinstance(answer, list) and len(answer) == 3
        answer = [check_response(r) for r in answer]
        assert {"jsonrpc": "2.0", "result": 7, "id": "1"} in answer
        assert answer.count({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}) == 2
        await no_answer(ws)
    run(session(server, subprotocols, body))


@OFFERS
def test_subscription_pushes_ticks(server, subprotocols):
    async def body(client, ws):
        sub = await client.call("subscribe", {"interval_ms": 20, "count": 3})
        ticks = [await asyncio.wait_for(client.notifications.get(), 5) for _ in range(3)]
        assert [t["method"] for t in ticks] == ["tick"] * 3
        assert [t["params"] for t in ticks] == [{"subscription": sub, "n": n} for n in (1, 2, 3)]
        assert all("id" not in t for t in ticks)  # notifications (§4.1)
        # A second subscription, stopped by unsubscribe.
        sub2 = await client.call("subscribe", [10, 100000])
        await asyncio.wait_for(client.notifications.get(), 5)
        assert await client.call("unsubscribe", [sub2]) is True
        assert await client.call("unsubscribe", [sub2]) is False
    run(session(server, subprotocols, body))


def test_concurrent_calls_with_deflate(server):
    async def body(client, ws):
        results = await asyncio.gather(*(client.call("subtract", [n, 1]) for n in range(300)))
        assert results == [n - 1 for n in range(300)]
    run(session(server, ["jsonrpc"], body, compression="deflate"))


def test_jsonrpc_chosen_among_other_offers(server):
    async def offer():
        async with connect(f"{server.base}/rpc", subprotocols=["x-unknown", "jsonrpc"], compression=None) as ws:
            client = JsonRpcClient(ws)
            assert await client.call("sum", [2, 3]) == 5
            await client.close()
            return ws.subprotocol
    assert run(offer()) == "jsonrpc"


def test_plugins_lists_jsonrpc():
    out = subprocess.run([switchboard_bin(), "plugins"], capture_output=True, text=True, timeout=30).stdout
    line = next(l for l in out.splitlines() if l.startswith("jsonrpc "))
    assert "JSON-RPC 2.0" in line and "route /rpc" in line and "subprotocol" in line


def test_switchboard_connect_speaks_to_it(server, start_client):
    proc = start_client(f"{server.base}/rpc", "--subprotocol", "jsonrpc", stdin=subprocess.PIPE)
    proc.proc.stdin.write(b'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}\n')
    proc.proc.stdin.write(b'[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"a"}]\n')
    proc.proc.stdin.flush()
    proc.wait_line(lambda l: l.startswith("subprotocol: jsonrpc"), stream="err")
    first = proc.wait_line(lambda l: '"id":1' in l, stream="out")
    assert json.loads(first) == {"jsonrpc": "2.0", "result": 19, "id": 1}
    batch = proc.wait_line(lambda l: l.startswith("["), stream="out")
    assert json.loads(batch) == [{"jsonrpc": "2.0", "result": 7, "id": "a"}]
    proc.proc.stdin.close()
    assert proc.wait() == 0
