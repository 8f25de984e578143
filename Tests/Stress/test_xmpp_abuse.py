"""XMPP abuse against `switchboard serve --xmpp-user ...` at /xmpp: a client that never
reads while another floods it with large stanzas (the server's per-connection queue is
bounded in bytes, XMPPConfiguration.maxQueuedBytes), and a stanza flood past the rate limit."""
from __future__ import annotations

import asyncio
import signal

import stress  # noqa: F401 - puts Tests/Interop on sys.path
from stress import MiB
from xmpp_ws_client import StreamError, XmppClient

USERS = ["--xmpp-user", "alice:wonderland", "--xmpp-user", "bob:builder"]
STANZA_BODY = 200 * 1024      # under the 256 KiB stanza limit
FLOOD_STANZAS = 300           # 60 MB of stanzas for a client that never reads; about 5 s at 50/s
SLOW_READER_PEAK = 48         # MiB of growth allowed (the queue's 1 MiB, socket buffers, the debug build's parsing)
RATE_FLOOD = 2000             # stanzas sent at once, past the 50/s (burst 100) limit


def run(coro, timeout=60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_client_that_never_reads_does_not_pin_the_senders_stanzas(stress):
    srv = stress.start(*USERS)
    url = f"{srv.base}/xmpp"
    with stress.measure(f"{FLOOD_STANZAS} stanzas of {STANZA_BODY >> 10} KiB to a client that never reads: "
                        f"RSS bounded, the sender served") as m:
        async def body():
            bob = await XmppClient.connect(url, "bob", "builder", resource="stalled")
            bob._reader.cancel()  # logged in, then never reads again: the socket fills up
            alice = await XmppClient.connect(url, "alice", "wonderland", resource="flood")
            sent = 0
            for _ in range(FLOOD_STANZAS):
                await alice.send_message(bob.jid, "x" * STANZA_BODY)
                sent += 1
                await asyncio.sleep(0.018)  # under the 50/s stanza rate
            await alice.ping()  # the sender is still served
            await alice.close()
            return sent
        sent = run(body())
        m.observed = f"{sent} sent ({sent * STANZA_BODY / MiB:.0f} MiB), sender's ping answered"
    m.assert_alive()
    m.assert_rss(peak_growth_mib=SLOW_READER_PEAK)
    m.assert_served()


def test_stanza_flood_past_the_rate_is_a_stream_error(stress):
    srv = stress.start(*USERS)
    url = f"{srv.base}/xmpp"
    with stress.measure(f"{RATE_FLOOD} stanzas at once: policy-violation, RSS bounded") as m:
        async def body():
            alice = await XmppClient.connect(url, "alice", "wonderland")
            for _ in range(RATE_FLOOD):
                await alice.ws.send("<presence xmlns='jabber:client'/>")
            try:
                await alice.ping(timeout=10)
            except StreamError as error:
                return error.condition
            return "no stream error"
        condition = run(body())
        m.observed = f"stream error {condition}"
    assert condition == "policy-violation", m.observed
    m.assert_alive()
    m.assert_rss(peak_growth_mib=16)
    m.assert_served()


SHUTDOWN_EXIT = 20.0          # s: XMPPServer.shutdown's bound (5 s), then the server's own 5 s shutdown timeout, with room


def test_sigterm_with_a_client_that_never_reads_still_exits(stress):
    """The system-shutdown a stalled client cannot take must not hold the server's shutdown."""
    srv = stress.start(*USERS)
    url = f"{srv.base}/xmpp"
    with stress.measure("SIGTERM while a client that never reads has a full socket: the server exits in time",
                        probe=False) as m:
        async def body():
            bob = await XmppClient.connect(url, "bob", "builder", resource="stalled")
            bob._reader.cancel()  # never reads again
            alice = await XmppClient.connect(url, "alice", "wonderland", resource="flood")
            for _ in range(60):  # 12 MiB: past the socket buffers, so the server's writes to bob wait
                await alice.send_message(bob.jid, "x" * STANZA_BODY)
                await asyncio.sleep(0.018)
            await alice.ping()
            start = asyncio.get_running_loop().time()
            srv.proc.proc.send_signal(signal.SIGTERM)
            rc = await asyncio.to_thread(srv.proc.wait, SHUTDOWN_EXIT)
            return rc, asyncio.get_running_loop().time() - start
        rc, took = run(body())
        m.observed = f"exit {rc} {took:.1f} s after SIGTERM"
    assert rc == 0, m.observed
