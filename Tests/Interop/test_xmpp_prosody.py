"""Our XMPP client (`switchboard xmpp-chat`) against Prosody's mod_websocket (Debian's
`prosody`, started on loopback with its own config by prosody_server.py): SCRAM login,
bind, ping, presence, and a message between two of our clients through Prosody."""
from __future__ import annotations

import json

import pytest

from conftest import Proc, switchboard_bin
from prosody_server import ProsodyServer

USERS = {"alice": "wonderland", "bob": "builder"}


@pytest.fixture(params=["SHA-1", "SHA-256"])
def prosody(request):
    # Prosody stores keys for one hash per server, so it offers SCRAM-SHA-1 or SCRAM-SHA-256, not both.
    with ProsodyServer(users=USERS, password_hash=request.param) as server:
        yield server


def chat(url, *args) -> Proc:
    return Proc([switchboard_bin(), "xmpp-chat", url, *args])


def lines(proc: Proc) -> list[dict]:
    return [json.loads(line) for line in proc.out if line.strip()]


def test_our_clients_talk_through_prosody(prosody):
    bob = chat(prosody.url, "--jid", "bob@localhost/desk", "--password", "builder", "--presence", "--expect-messages", "1")
    try:
        bob.wait_line(lambda l: '"bound"' in l, stream="out", timeout=20)
        alice = chat(prosody.url, "--jid", "alice@localhost", "--password", "wonderland", "--presence",
                     "--presence-to", "bob@localhost/desk", "--ping", "--to", "bob@localhost/desk", "--message", "hello through prosody")
        try:
            assert alice.wait(timeout=30) == 0, alice.dump()
        finally:
            alice.stop()
        assert bob.wait(timeout=30) == 0, bob.dump()
    finally:
        bob.stop()
    sent = lines(alice)
    assert sent[0]["bound"].startswith("alice@localhost/")  # SCRAM login and a server-made resource
    assert {"ping": "ok"} in sent
    got = lines(bob)
    assert got[0] == {"bound": "bob@localhost/desk"}
    assert {"presence": {"from": sent[0]["bound"], "type": "available"}} in got  # alice's directed presence
    messages = [g["message"] for g in got if "message" in g]
    assert messages == [{"from": sent[0]["bound"], "body": "hello through prosody"}]


def test_a_wrong_password_fails(prosody):
    proc = chat(prosody.url, "--jid", "alice@localhost", "--password", "nope")
    try:
        assert proc.wait(timeout=30) == 1
    finally:
        proc.stop()
    assert "authenticationFailed" in "".join(proc.err) and "not-authorized" in "".join(proc.err)
