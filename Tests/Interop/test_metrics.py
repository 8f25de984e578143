"""`switchboard serve --metrics PORT`: swift-metrics through swift-prometheus, scraped after
traffic from Python `websockets`; the values must be what that traffic was (issue 19)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import re
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from conftest import free_port


def scrape(port: int) -> dict[str, float]:
    """The registry's samples, `name{labels}` -> value, labels sorted."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        assert match, line
        name, labels, value = match.groups()
        pairs = sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
        samples[name + "{" + ",".join(f"{k}={v}" for k, v in pairs) + "}"] = float(value)
    return samples


def value(samples: dict[str, float], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (0 when there is none)."""
    found = [v for key, v in samples.items()
             if key.startswith(name + "{") and all(f"{k}={v}" in key[len(name) + 1:-1].split(",") for k, v in labels.items())]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else 0.0


def test_scrape_after_traffic(start_server):
    metrics_port = free_port()
    server = start_server("--metrics", str(metrics_port))
    server.proc.wait_line(lambda l: "metrics on" in l)
    before = scrape(metrics_port)
    assert value(before, "websocket_connections_active", websocket_route="/echo") == 0

    async def traffic():
        async with connect(server.url) as ws:
            for text in ["one", "two", "three"]:
                await ws.send(text)
                assert await ws.recv() == text
            during = scrape(metrics_port)
            await ws.close(4001, "done")
        with pytest.raises(InvalidStatus):
            async with connect(f"{server.base}/nowhere"):
                pass
        return during

    during = asyncio.run(asyncio.wait_for(traffic(), 20))
    echo = dict(websocket_role="server", websocket_route="/echo", websocket_subprotocol="")
    assert value(during, "websocket_connections_active", **echo) == 1
    after = scrape(metrics_port)
    assert value(after, "websocket_connections_active", **echo) == 0
    assert value(after, "websocket_connections", **echo) == 1
    assert value(after, "websocket_messages", websocket_direction="received", **echo) == 3
    assert value(after, "websocket_messages", websocket_direction="sent", **echo) == 3
    assert value(after, "websocket_message_bytes", websocket_direction="received", **echo) == len("onetwothree")
    # Close codes a peer picks (received, and our echo of them) are counted by class: a label per
    # code would let peers make thousands of series.
    assert value(after, "websocket_closes", websocket_direction="received", websocket_close_code="4xxx", **echo) == 1
    assert value(after, "websocket_closes", websocket_direction="sent", websocket_close_code="4xxx", **echo) == 1
    assert value(after, "websocket_server_handshakes", http_response_status_code="101") == 1
    assert value(after, "websocket_server_handshakes", http_response_status_code="404") == 1
    # A hostile peer closing with 40 different codes adds no series.
    async def many_codes():
        for code in list(range(4000, 4020)) + list(range(3000, 3020)):
            async with connect(server.url) as ws:
                await ws.close(code, "")

    asyncio.run(asyncio.wait_for(many_codes(), 30))
    closes = {k for k in scrape(metrics_port) if k.startswith("websocket_closes{")}
    assert len(closes) == 4, closes  # received and sent, 3xxx and 4xxx
    assert value(scrape(metrics_port), "websocket_closes", websocket_direction="received", websocket_close_code="4xxx", **echo) == 21

    # Only /metrics is served there.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/", timeout=10)
    assert missing.value.code == 404


def test_scrape_plugins_heartbeats_and_backpressure(start_server, start_client):
    """The plug-ins' metrics and the transport's heartbeat and backpressure ones, from real traffic:
    Python `websockets` compressing (permessage-deflate), JSON-RPC calls known and unknown, our
    own client opening mux channels, pings answered, and a peer that stops reading."""
    metrics_port = free_port()
    server = start_server("--metrics", str(metrics_port), "--ping-interval", "1")
    server.proc.wait_line(lambda l: "metrics on" in l)
    text = "compressible " * 100  # 1300 bytes, over the 64-byte threshold

    async def deflate_rpc_and_ping():
        async with connect(server.url) as ws:  # websockets offers permessage-deflate by default
            assert ws.protocol.extensions, "no permessage-deflate negotiated"
            for _ in range(10):
                await ws.send(text)
                assert await ws.recv() == text
            await asyncio.sleep(2.5)  # two heartbeats, answered by websockets
        async with connect(f"{server.base}/rpc", subprotocols=["jsonrpc"], compression=None) as ws:
            await ws.send('{"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":1}')
            assert '"result":6' in await ws.recv()
            await ws.send('{"jsonrpc":"2.0","method":"no such method","id":2}')
            assert "-32601" in await ws.recv()

    asyncio.run(asyncio.wait_for(deflate_rpc_and_ping(), 30))
    after = scrape(metrics_port)
    deflated = lambda direction, form: value(after, "websocket_deflate_bytes", websocket_direction=direction,
                                             websocket_deflate_form=form)
    assert deflated("received", "uncompressed") == 10 * len(text)
    assert deflated("sent", "uncompressed") == 10 * len(text)
    assert 0 < deflated("received", "compressed") < len(text)  # context takeover: the repeats cost little
    assert 0 < deflated("sent", "compressed") < len(text)
    echo = dict(websocket_role="server", websocket_route="/echo", websocket_subprotocol="")
    assert value(after, "websocket_ping_duration_count", **echo) >= 1
    assert 0 < value(after, "websocket_ping_duration_sum", **echo) < 1.0  # seconds, on loopback
    rpc = dict(rpc_system="jsonrpc")
    assert value(after, "rpc_server_duration_count", rpc_method="sum", **rpc) == 1
    # A method the server does not have is _OTHER, with its error code: peers pick those names.
    assert value(after, "rpc_server_duration_count", rpc_method="_OTHER", rpc_jsonrpc_error_code="-32601", **rpc) == 1
    assert not any("no such method" in key for key in after)

    # Our client opens two channels beside the implicit one; a third, to a route that does not exist, is refused.
    proc = start_client(server.url, "--channel", "/echo", "--channel", "/rpc=jsonrpc", stdin=subprocess.PIPE)
    proc.wait_line(lambda l: l.startswith("channel 2:"), timeout=10)
    during = scrape(metrics_port)
    assert value(during, "websocket_mux_channels_active", websocket_role="server") == 2
    proc.proc.stdin.close()
    assert proc.wait(timeout=10) == 0, proc.dump()
    refused = start_client(server.url, "--channel", "/nowhere", stdin=subprocess.PIPE)
    refused.proc.stdin.close()
    refused.wait(timeout=10)
    after = scrape(metrics_port)
    assert value(after, "websocket_mux_channels", websocket_role="server") == 2
    assert value(after, "websocket_mux_channels_active", websocket_role="server") == 0
    assert value(after, "websocket_mux_channels_refused", websocket_role="server") == 1

    # A peer that sends and does not read. /echo answers on the event loop, inside the read: its
    # reads stop while the answers wait for the peer (peer). /rpc's handler is an async task:
    # its replies wait for the peer (peer), and then, waiting on them, it stops taking what
    # arrives (reader).
    batch = "[" + ",".join(f'{{"jsonrpc":"2.0","method":"get_data","id":{i}}}' for i in range(1000)) + "]"

    async def stall(url, message, count, **options):
        async with connect(url, compression=None, max_queue=1, max_size=None, **options) as ws:
            try:
                await asyncio.wait_for(asyncio.gather(*(ws.send(message) for _ in range(count))), 5)
            except asyncio.TimeoutError:
                pass
            stalled = scrape(metrics_port)
            ws.transport.abort()
            return stalled

    stalled = asyncio.run(asyncio.wait_for(stall(server.url, os.urandom(512 * 1024), 64), 30))
    assert value(stalled, "websocket_backpressure_pauses", websocket_backpressure_cause="peer", **echo) >= 1
    assert value(stalled, "websocket_backpressure_pauses", websocket_backpressure_cause="reader", **echo) == 0
    rpc_route = dict(websocket_role="server", websocket_route="/rpc", websocket_subprotocol="jsonrpc")
    stalled = asyncio.run(asyncio.wait_for(stall(f"{server.base}/rpc", batch, 400, subprotocols=["jsonrpc"]), 30))
    assert value(stalled, "websocket_backpressure_pauses", websocket_backpressure_cause="peer", **rpc_route) >= 1
    assert value(stalled, "websocket_backpressure_pauses", websocket_backpressure_cause="reader", **rpc_route) >= 1
