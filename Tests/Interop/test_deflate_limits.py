"""Size limits with permessage-deflate on: the limit is on the message, not on its compressed frame."""
from __future__ import annotations

import asyncio
import os

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

MiB = 1 << 20


def test_incompressible_message_at_the_limit_passes(start_server):
    srv = start_server("--max-message-size", str(MiB))

    async def main():
        async with connect(srv.url, compression="deflate", max_size=None) as ws:
            assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
            data = os.urandom(MiB)  # deflates to slightly more than 1 MiB
            await ws.send(data)
            assert await ws.recv() == data

    asyncio.run(asyncio.wait_for(main(), 30))


def test_message_over_the_limit_closes_1009(start_server):
    srv = start_server("--max-message-size", str(MiB))

    async def main():
        async with connect(srv.url, compression="deflate", max_size=None) as ws:
            await ws.send(b"\0" * (MiB + 1))  # compresses to about 1 KiB; inflates past the limit
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == 1009

    asyncio.run(asyncio.wait_for(main(), 30))
