"""Our XMPP server (`switchboard serve --xmpp-user ...`, /xmpp) against an independent
client written from the RFCs over Python `websockets` (xmpp_ws_client.py, also checked
against Prosody): login with SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN, bind, roster and
subscriptions, presence, messages both ways, pings; and the stream error each kind of bad
input gets (RFC 6120 §4.9.3), followed by <close/>."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import pytest
from websockets.asyncio.client import connect

from xmpp_ws_client import NS_FRAMING, NS_STREAM_ERRORS, NS_STREAMS, SaslFailure, XmppClient, exercise

USERS = ["--xmpp-user", "alice:wonderland", "--xmpp-user", "bob:builder"]


def run(coro, timeout=30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture
def xmpp(start_server):
    server = start_server(*USERS)
    return f"{server.base}/xmpp"


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_two_accounts_full_exchange(xmpp, mechanism):
    lines: list[str] = []
    run(exercise(xmpp, ("alice", "wonderland"), ("bob", "builder"), mechanism=mechanism, log=lines.append))
    assert lines[0].startswith("alice bound alice@localhost/one with " + mechanism), lines
    assert "messages routed: full JID and bare JID" in lines


def test_wrong_password_is_a_sasl_failure(xmpp):
    with pytest.raises(SaslFailure) as failure:
        run(XmppClient.connect(xmpp, "alice", "not-the-password"))
    assert failure.value.condition == "not-authorized"


async def stream_error_for(url: str, messages: list, *, binary: bool = False) -> tuple[str, list[str]]:
    """Sends `messages` raw; returns (the stream error's condition, what followed it)."""
    async with connect(url, subprotocols=["xmpp"], compression=None) as ws:
        for message in messages:
            await ws.send(message.encode() if binary else message)
        condition, after = None, []
        async for text in ws:
            el = ET.fromstring(text)
            if el.tag == f"{{{NS_STREAMS}}}error":
                prefix = f"{{{NS_STREAM_ERRORS}}}"
                condition = next(c.tag[len(prefix):] for c in el if c.tag.startswith(prefix) and c.tag != prefix + "text")
            elif condition is not None:
                after.append(el.tag)
        # The error was in-band; the WebSocket itself closes normally, naming the condition.
        assert ws.close_code == 1000 and ws.close_reason == condition, (ws.close_code, ws.close_reason)
        return condition, after


OPEN = f"<open xmlns='{NS_FRAMING}' to='localhost' version='1.0'/>"


@pytest.mark.parametrize("messages,condition", [
    ([f"<open xmlns='{NS_FRAMING}' to='elsewhere' version='1.0'/>"], "host-unknown"),
    ([OPEN, "<message xmlns='jabber:client' to='bob@localhost'><body>x</body></message>"], "not-authorized"),
    ([OPEN, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'"], "not-well-formed"),
    ([OPEN, "<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>"], "restricted-xml"),
    ([OPEN, "<x><!-- a comment --></x>"], "restricted-xml"),
    ([OPEN, "<x>&custom;</x>"], "restricted-xml"),
    ([OPEN, "<a>" * 10000 + "</a>" * 10000], "policy-violation"),
    ([OPEN, "<x>" + "y" * 300_000 + "</x>"], "policy-violation"),
], ids=["host", "stanza-before-auth", "not-well-formed", "doctype", "comment", "entity", "10000-deep", "too-large"])
def test_bad_input_gets_its_stream_error_then_close(xmpp, messages, condition):
    got, after = run(stream_error_for(xmpp, messages))
    assert got == condition
    assert after == [f"{{{NS_FRAMING}}}close"]


def test_binary_and_floods_are_stream_errors(xmpp):
    got, _ = run(stream_error_for(xmpp, [OPEN], binary=True))
    assert got == "unsupported-encoding"
    got, _ = run(stream_error_for(xmpp, [OPEN] + ["<presence xmlns='jabber:client'/>"] * 500))
    assert got in ("policy-violation", "not-authorized")  # the flood or the stanza before login, whichever is met first


PLAIN_ALICE = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHdvbmRlcmxhbmQ=</auth>"  # \0alice\0wonderland
BIND = "<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"


@pytest.mark.parametrize("forged", ["bob@localhost", "alice@localhost/elsewhere", "mallory@evil.example"])
def test_a_forged_from_is_invalid_from(xmpp, forged):
    """RFC 6120 §8.1.2.1: a from that is not the client's own full or bare JID ends the stream."""
    message = f"<message xmlns='jabber:client' to='bob@localhost' from='{forged}'><body>x</body></message>"
    got, after = run(stream_error_for(xmpp, [OPEN, PLAIN_ALICE, OPEN, BIND, message]))
    assert got == "invalid-from"
    assert after == [f"{{{NS_FRAMING}}}close"]


def test_failed_logins_are_bounded(xmpp):
    """RFC 6120 §6.4.5: three SASL failures on one connection, then policy-violation."""
    wrong = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAGd1ZXNz</auth>"  # \0alice\0guess
    got, after = run(stream_error_for(xmpp, [OPEN] + [wrong] * 5))
    assert got == "policy-violation"
    assert after == [f"{{{NS_FRAMING}}}close"]


def test_sigint_ends_streams_with_system_shutdown(start_server):
    """`serve` going down tells its XMPP clients so (system-shutdown, <close/>) before the socket closes."""
    server = start_server(*USERS)

    async def scenario() -> tuple[str, list[str]]:
        async with connect(f"{server.base}/xmpp", subprotocols=["xmpp"], compression=None) as ws:
            for message in [OPEN, PLAIN_ALICE, OPEN, BIND]:
                await ws.send(message)
            seen: list[ET.Element] = []
            while not any(el.tag == "{jabber:client}iq" for el in seen):  # bound
                seen.append(ET.fromstring(await asyncio.wait_for(ws.recv(), 10)))
            server.proc.proc.send_signal(2)  # SIGINT
            condition, after = None, []
            async for text in ws:
                el = ET.fromstring(text)
                if el.tag == f"{{{NS_STREAMS}}}error":
                    condition = next(c.tag.split("}")[1] for c in el if c.tag.split("}")[1] != "text")
                elif condition is not None:
                    after.append(el.tag)
            return condition, after

    condition, after = run(scenario())
    assert condition == "system-shutdown"
    assert after == [f"{{{NS_FRAMING}}}close"]
