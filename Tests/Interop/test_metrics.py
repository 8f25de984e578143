"""`switchboard serve --metrics PORT`: swift-metrics through swift-prometheus, scraped after
traffic from Python `websockets`; the values must be what that traffic was (issue 19)."""
from __future__ import annotations

import asyncio
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
