"""Graceful shutdown under load: SIGTERM while 200 clients have messages in flight."""
from __future__ import annotations

import asyncio
import signal
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

CLIENTS = 200
IN_FLIGHT = 8                # messages each client keeps unanswered
TRAFFIC_SECONDS = 1.5        # of traffic before the SIGTERM
EXIT_TIMEOUT = 15.0          # the server's shutdown timeout is 5 s


async def client(url: str, started: asyncio.Event, result: dict):
    sent = 0
    echoes: list[int] = []
    window = asyncio.Semaphore(IN_FLIGHT)
    try:
        async with connect(url, open_timeout=15, close_timeout=10, max_queue=None) as ws:
            async def send():
                nonlocal sent
                while True:
                    await window.acquire()
                    await ws.send(f"{sent}")
                    sent += 1

            async def recv():
                async for msg in ws:
                    echoes.append(int(msg))
                    window.release()

            sender = asyncio.create_task(send())
            started.set()
            try:
                await recv()
            finally:
                sender.cancel()
                try:
                    await sender
                except (asyncio.CancelledError, ConnectionClosed):
                    pass
            result["code"] = ws.close_code
    except ConnectionClosed as e:
        result["code"] = e.rcvd.code if e.rcvd else None
    except Exception as e:  # noqa: BLE001
        result["error"] = f"{type(e).__name__}: {e}"[:120]
    result["sent"], result["echoes"] = sent, echoes


@pytest.mark.timeout(90)
def test_sigterm_with_traffic_in_flight(stress):
    srv = stress.start()
    results = [dict() for _ in range(CLIENTS)]
    with stress.measure(f"SIGTERM with {CLIENTS} clients echoing: each gets 1001, every echo in order, "
                        "none missing before the last") as m:
        m.skip_after = True

        async def main():
            events = [asyncio.Event() for _ in range(CLIENTS)]
            tasks = [asyncio.create_task(client(srv.url, e, r)) for e, r in zip(events, results)]
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 30)
            await asyncio.sleep(TRAFFIC_SECONDS)
            m.end_abuse()  # the well-behaved client has been served until now
            m.rss()
            srv.proc.proc.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*tasks), EXIT_TIMEOUT + 10)
            return time.monotonic() - t0

        closed_in = asyncio.run(main())
        try:
            rc = srv.proc.wait(EXIT_TIMEOUT)
        except AssertionError:
            rc = "still running"
        codes: dict = {}
        gaps = []
        for i, r in enumerate(results):
            codes[r.get("code", r.get("error"))] = codes.get(r.get("code", r.get("error")), 0) + 1
            e = r.get("echoes", [])
            if e != list(range(len(e))) or not e:
                gaps.append(i)
        echoed = sum(len(r.get("echoes", [])) for r in results)
        sent = sum(r.get("sent", 0) for r in results)
        m.observed = (f"close codes {codes}; {echoed} of {sent} messages echoed, {len(gaps)} clients with a gap "
                      f"or nothing; all closed {closed_in:.1f} s after SIGTERM; exit {rc}")
    m.assert_served(after=False)
    m.assert_rss(peak_growth_mib=64)
    assert codes == {1001: CLIENTS}, m.observed
    assert not gaps, m.observed
    assert rc == 0, m.observed
