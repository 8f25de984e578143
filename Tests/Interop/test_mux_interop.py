"""Multiplexing (issue 5) against the one implementation that still runs,
mod_pywebsocket 0.7.9 (draft 06, token `mux_DO_NOT_USE`, Python 2.7 only), and
our client against our server with several routes on one socket.

* its mux test client (the sdist's test/mux_client_for_testing.py, running
  test_endtoend._mux_echo_check_procedure) against `switchboard serve`;
* `switchboard connect --channel ...` against its standalone server's /echo
  (example/echo_wsh.py), text and binary, the physical channel used too;
* `switchboard connect` against `switchboard serve`: a JSON-RPC channel and
  echo channels at once, each with its own subprotocol;
* a few wire checks of `switchboard serve` with a raw mux peer (mux_peer.py)
  for what docs/multiplexing.md requires of it.

mod_pywebsocket is fetched by scripts/mpw-setup.sh into a cache outside git
(.mpw-cache/, sha256-checked) and never committed. A missing Python 2.7 or a
failed download FAILS these tests (never skips). Every wait is bounded, every
subprocess is killed in teardown (conftest.Proc).

Things mod_pywebsocket 0.7.9 does that shape these tests (see
docs/multiplexing.md and the analysis of its source):
* its /echo drops empty messages (its sender writes no frame for 0 bytes) and
  ends a channel silently after echoing the text "Goodbye": no such lines here;
* its /echo accepts no subprotocol, and an AddChannelRequest for a path it has
  no handler for kills its whole mux session: only /echo is opened there;
* its receive window is 8192 per channel, replenished frame by frame;
* its mux test client is not run against its own server: that server sends
  FlowControl(1) and NewChannelSlot as two messages and the client waits for
  a slot once, so on a loaded machine it fails by itself ("Failed to receive
  NewChannelSlot", seen in a full test.sh run). Our server sends both in one
  message, which that client always accepts.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import REPO_ROOT, STARTUP_TIMEOUT, Proc, free_port
from mux_peer import (DROP_CHANNEL, FLOW_CONTROL, NEW_CHANNEL_SLOT, Block, Frame, MuxPeer, OP_BINARY, OP_CLOSE,
                      OP_TEXT, PhysicalClose, drop_channel, flow_control)

# The first test to use `mpw` may download it (scripts/test.sh fetches it before pytest, so
# usually it only verifies the cache): leave room for that inside the per-test timeout.
pytestmark = pytest.mark.timeout(150)

MPW_SETUP = REPO_ROOT / "scripts" / "mpw-setup.sh"
SETUP_TIMEOUT = float(os.environ.get("MPW_SETUP_TIMEOUT", "120"))
PROCEDURE_TIMEOUT = 30.0   # its client's own waits are 2 s each; the whole procedure takes ~1 s
LINE_TIMEOUT = 15.0        # one echo through a debug build and a Python 2 server

CHANNEL_LINE = re.compile(r"^channel (\d+): subprotocol (\S+), extensions (.*)$")
OUT_LINE = re.compile(r"^\[(\d+)\] (.*)$")


# --- mod_pywebsocket: fetched once per session --------------------------------------

class Mpw:
    def __init__(self, root: str, python: str):
        self.root = root
        self.python = python

    def env(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = self.root
        env["PYENV_VERSION"] = os.environ.get("MPW_PYENV_VERSION", "2.7.18")  # if python is a pyenv shim
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep the cached sdist tree pristine
        env["PYTHONUNBUFFERED"] = "1"
        return env


@pytest.fixture(scope="session")
def mpw() -> Mpw:
    """scripts/mpw-setup.sh: download (pip, sha256-checked), unpack, check Python 2.7 imports it."""
    env = dict(os.environ)
    env.setdefault("PIP_PYTHON", sys.executable)  # the interop venv has pip
    try:
        done = subprocess.run(["bash", str(MPW_SETUP)], capture_output=True, text=True, env=env,
                              timeout=SETUP_TIMEOUT, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{MPW_SETUP} did not finish within {SETUP_TIMEOUT}s", pytrace=False)
    values = dict(l.split("=", 1) for l in done.stdout.splitlines() if "=" in l)
    if done.returncode != 0 or "MPW_DIR" not in values or "MPW_PYTHON" not in values:
        pytest.fail(f"{MPW_SETUP} failed (exit {done.returncode}): mod_pywebsocket 0.7.9 under Python 2.7 "
                    f"is required for the mux interop tests\n{done.stdout}\n{done.stderr}", pytrace=False)
    return Mpw(values["MPW_DIR"], values["MPW_PYTHON"])


class MpwServer:
    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.base = f"ws://127.0.0.1:{port}"


@pytest.fixture
def mpw_server(mpw):
    """Its standalone server with the example handlers (/echo = example/echo_wsh.py); mux is on by default."""
    port = free_port()
    proc = Proc([mpw.python, os.path.join(mpw.root, "mod_pywebsocket", "standalone.py"),
                 "-H", "127.0.0.1", "-p", port, "-d", os.path.join(mpw.root, "example"),
                 "--log-level", "debug"], env=mpw.env())
    try:
        proc.wait_line(lambda l: "Listen on:" in l, stream="err", timeout=STARTUP_TIMEOUT)
        yield MpwServer(proc, port)
    finally:
        proc.stop()


# --- its mux test client --------------------------------------------------------------

# test_endtoend._mux_echo_check_procedure, aimed at any host:port (docs/multiplexing.md,
# "Interop commands"). Python 2.7.
ECHO_PROCEDURE = r"""
import sys
from test import client_for_testing, mux_client_for_testing, test_endtoend
o = client_for_testing.ClientOptions()
o.server_host, o.server_port = sys.argv[1], int(sys.argv[2])
o.origin, o.resource = 'http://localhost', '/echo'
c = mux_client_for_testing.MuxClient(o)
try:
    test_endtoend._mux_echo_check_procedure(c)
finally:
    c.close_socket()
print('mux echo OK against %s:%d' % (o.server_host, o.server_port))
"""

# More of the same client's API than the canned procedure uses: the implicit
# channel 1 (the physical request's own /echo), binary messages, and a dozen
# channels open at once, then closed. Its client ignores logical FIN bits and
# counts no +1 per message, so messages stay small and well inside the quota
# each side grants.
WIDE_PROCEDURE = r"""
import sys
from test import client_for_testing, mux_client_for_testing
o = client_for_testing.ClientOptions()
o.server_host, o.server_port = sys.argv[1], int(sys.argv[2])
o.origin, o.resource = 'http://localhost', '/echo'
c = mux_client_for_testing.MuxClient(o)
ch_opts = client_for_testing.ClientOptions()
ch_opts.server_host, ch_opts.server_port = 'localhost', 80
ch_opts.origin, ch_opts.resource = 'http://localhost', '/echo'
channels = range(2, 14)
try:
    c.connect()
    c.send_flow_control(1, 4096)
    c.send_message(1, u'on the implicit channel')
    c.assert_receive(1, u'on the implicit channel'.encode('utf-8'))
    for ch in channels:
        c.add_channel(ch, ch_opts)
        c.send_flow_control(ch, 4096)
    for ch in channels:
        c.send_message(ch, u'text on %d \u2713' % ch)
        c.send_message(ch, '\x00\x01binary\xfe\xff%d' % ch, binary=True)
    for ch in channels:
        c.assert_receive(ch, (u'text on %d \u2713' % ch).encode('utf-8'))
        c.assert_receive(ch, '\x00\x01binary\xfe\xff%d' % ch, binary=True)
    c.send_message(1, 'binary on 1', binary=True)
    c.assert_receive(1, 'binary on 1', binary=True)
    for ch in channels:
        c.send_close(ch, code=1000, reason='')
    for ch in channels:
        c.assert_receive_close(ch)
    c.send_physical_connection_close()
    c.assert_physical_connection_receive_close()
finally:
    c.close_socket()
print('mux wide OK against %s:%d, %d channels' % (o.server_host, o.server_port, len(channels) + 1))
"""


def run_mux_client(mpw: Mpw, script: str, port: int) -> Proc:
    """Run a Python 2.7 mux client script; proc.rc is its exit status, None if it hung (then killed)."""
    proc = Proc([mpw.python, "-c", script, "127.0.0.1", port], env=mpw.env())
    try:
        proc.rc = proc.wait(timeout=PROCEDURE_TIMEOUT)
    except AssertionError:
        proc.rc = None
    finally:
        proc.stop()
    return proc


def procedure_failure(proc: Proc, server: Proc, name: str) -> str:
    status = "hung: killed after %ss" % PROCEDURE_TIMEOUT if proc.rc is None else f"exit {proc.rc}"
    return f"its mux client failed ({status})\n{proc.dump()}\n--- {name} ---\n{server.dump()}"


def test_its_mux_client_echo_procedure_against_our_server(mpw, start_server):
    server = start_server("--ping-interval", "0")  # its client dies on a physical ping
    proc = run_mux_client(mpw, ECHO_PROCEDURE, server.port)
    assert proc.rc == 0, procedure_failure(proc, server.proc, "switchboard serve")
    assert f"mux echo OK against 127.0.0.1:{server.port}" in proc.out, proc.dump()


def test_its_mux_client_wide_against_our_server(mpw, start_server):
    server = start_server("--ping-interval", "0")
    proc = run_mux_client(mpw, WIDE_PROCEDURE, server.port)
    assert proc.rc == 0, procedure_failure(proc, server.proc, "switchboard serve")
    assert f"mux wide OK against 127.0.0.1:{server.port}, 13 channels" in proc.out, proc.dump()


# --- `switchboard connect --channel ...` -------------------------------------------------

def received(proc: Proc) -> dict[int, list[str]]:
    """stdout `[i] message` lines by channel index, in arrival order."""
    by_channel: dict[int, list[str]] = {}
    for line in list(proc.out):
        m = OUT_LINE.match(line)
        if m:
            by_channel.setdefault(int(m.group(1)), []).append(m.group(2))
    return by_channel


def channel_reports(proc: Proc) -> dict[int, tuple[str, str]]:
    """stderr `channel i: subprotocol S, extensions E` -> {i: (S, E)}."""
    out = {}
    for line in list(proc.err):
        m = CHANNEL_LINE.match(line)
        if m:
            out[int(m.group(1))] = (m.group(2), m.group(3))
    return out


def send_lines(proc: Proc, lines):
    try:
        for line in lines:
            proc.proc.stdin.write(line.encode() + b"\n")
        proc.proc.stdin.flush()
    except BrokenPipeError:
        proc.wait(timeout=5)
        raise AssertionError(f"the client exited (status {proc.proc.poll()}) before reading its input\n"
                             f"{proc.dump()}") from None


def wait_received(proc: Proc, expected: dict[int, list[str]], timeout=LINE_TIMEOUT, context=""):
    """Wait until every channel has received at least as many lines as expected (the caller then
    compares them)."""
    deadline = time.monotonic() + timeout
    while True:
        got = received(proc)
        if all(len(got.get(ch, [])) >= len(want) for ch, want in expected.items()):
            return got
        exited = proc.proc.poll() is not None
        if exited:
            for t in proc._threads:  # drain what it printed before exiting
                t.join(timeout=2)
            got = received(proc)
            if all(len(got.get(ch, [])) >= len(want) for ch, want in expected.items()):
                return got
        if exited or time.monotonic() > deadline:
            missing = {ch: [w for w in want if w not in got.get(ch, [])] for ch, want in expected.items()}
            raise AssertionError(f"not every message came back within {timeout}s (exit={proc.proc.poll()}); "
                                 f"missing by channel: {shorten(missing)}\n{proc.dump()}{context}")
        time.sleep(0.05)


def shorten(value, limit=2000):
    s = repr(value)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


def finish(proc: Proc, timeout=LINE_TIMEOUT) -> int:
    """End stdin (the client then closes every channel and the connection); its exit status."""
    try:
        proc.proc.stdin.close()
    except BrokenPipeError:
        pass
    return proc.wait(timeout=timeout)


# Lines safe for mod_pywebsocket's /echo: none empty, none "Goodbye".
LINES = ["hello", "multiplexed world", "h\u00e9llo \u2603 \U0001F600", "x" * 3000, "last line"]


def mpw_context(server: MpwServer) -> str:
    return f"\n--- mod_pywebsocket standalone ---\n{server.proc.dump()}"


def test_our_client_three_channels_to_its_echo_text(mpw_server, start_client):
    proc = start_client(f"{mpw_server.base}/echo", "--channel", "/echo", "--channel", "/echo", "--no-deflate",
                        "--mux-token", "mux_DO_NOT_USE", stdin=subprocess.PIPE)
    send_lines(proc, LINES)
    got = wait_received(proc, {ch: LINES for ch in (0, 1, 2)}, context=mpw_context(mpw_server))
    for ch in (0, 1, 2):
        assert got[ch] == LINES, f"channel {ch}: {shorten(got[ch])}\n{proc.dump()}"
    reports = channel_reports(proc)
    assert sorted(reports) == [0, 1, 2], proc.dump()
    for ch, (subprotocol, extensions) in reports.items():
        assert subprotocol == "none", proc.dump()
        assert "deflate" not in extensions, proc.dump()
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)
    assert set(received(proc)) == {0, 1, 2}, proc.dump()
    assert all(len(v) == len(LINES) for v in received(proc).values()), "an echo came twice\n" + proc.dump()


def test_our_client_three_channels_to_its_echo_binary(mpw_server, start_client):
    proc = start_client(f"{mpw_server.base}/echo", "--channel", "/echo", "--channel", "/echo", "--no-deflate",
                        "--mux-token", "mux_DO_NOT_USE", "--binary", stdin=subprocess.PIPE)
    send_lines(proc, LINES)
    want = [f"binary {len(l.encode())} bytes: {l.encode().hex()}" for l in LINES]
    got = wait_received(proc, {ch: want for ch in (0, 1, 2)}, context=mpw_context(mpw_server))
    for ch in (0, 1, 2):
        assert got[ch] == want, f"channel {ch}: {shorten(got[ch])}\n{proc.dump()}"
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)


def test_our_client_per_channel_lines_to_its_echo(mpw_server, start_client):
    """`[i] ` lines go to channel i only; the others get only the unprefixed lines."""
    proc = start_client(f"{mpw_server.base}/echo", "--channel", "/echo", "--channel", "/echo", "--no-deflate",
                        "--mux-token", "mux_DO_NOT_USE", stdin=subprocess.PIPE)
    send_lines(proc, ["[0] only zero", "[2] only two", "to all", "[1] only one"])
    expected = {0: ["only zero", "to all"], 1: ["to all", "only one"], 2: ["only two", "to all"]}
    got = wait_received(proc, expected, context=mpw_context(mpw_server))
    assert got == expected, proc.dump()
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)
    assert received(proc) == expected, "a line went to a channel it was not meant for\n" + proc.dump()


def test_our_client_mux_flag_alone_uses_the_physical_channel(mpw_server, start_client):
    """--mux with no --channel: mux negotiated, channel 0 (its implicit channel 1) carries the echo."""
    proc = start_client(f"{mpw_server.base}/echo", "--mux", "--no-deflate", "--mux-token", "mux_DO_NOT_USE",
                        stdin=subprocess.PIPE)
    send_lines(proc, LINES)
    got = wait_received(proc, {0: LINES}, context=mpw_context(mpw_server))
    assert got == {0: LINES}, proc.dump()
    assert sorted(channel_reports(proc)) == [0], proc.dump()
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)


def test_our_client_message_larger_than_its_window(mpw_server, start_client):
    """20 000 bytes on each channel: more than mod_pywebsocket's 8192-byte window, so our client must
    split to its quota and wait for its frame-by-frame FlowControl; its echo comes back split the same way."""
    big = "".join(chr(ord("a") + i % 26) for i in range(20000))
    proc = start_client(f"{mpw_server.base}/echo", "--channel", "/echo", "--no-deflate",
                        "--mux-token", "mux_DO_NOT_USE", stdin=subprocess.PIPE)
    send_lines(proc, [big, "after the big one"])
    got = wait_received(proc, {0: [big, "after the big one"], 1: [big, "after the big one"]},
                        context=mpw_context(mpw_server))
    assert got[0] == got[1] == [big, "after the big one"], proc.dump()
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)


def test_our_client_eof_with_echoes_in_flight(mpw_server, start_client):
    """stdin ends right after the input: every channel's echoes still arrive before the closes."""
    proc = start_client(f"{mpw_server.base}/echo", "--channel", "/echo", "--channel", "/echo", "--no-deflate",
                        "--mux-token", "mux_DO_NOT_USE", stdin=subprocess.PIPE)
    send_lines(proc, LINES)
    assert finish(proc) == 0, proc.dump() + mpw_context(mpw_server)
    got = received(proc)
    for ch in (0, 1, 2):
        assert got.get(ch) == LINES, f"channel {ch}: {shorten(got.get(ch))}\n{proc.dump()}"


# --- our client, our server: several routes on one socket -----------------------------------

RPC_REQUEST = '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}'


def parse_json(text: str, proc: Proc):
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"the JSON-RPC channel received non-JSON {text!r}\n{proc.dump()}") from None


@pytest.mark.parametrize("token_args", [[], ["--mux-token", "mux_DO_NOT_USE"], ["--mux-token", "mux"]],
                         ids=["default-token", "mux_DO_NOT_USE", "mux"])
def test_jsonrpc_and_echo_channels_on_one_socket(start_server, start_client, token_args):
    server = start_server("--ping-interval", "0")
    proc = start_client(f"{server.base}/echo", "--channel", "/rpc=jsonrpc", "--channel", "/echo", *token_args,
                        stdin=subprocess.PIPE)
    send_lines(proc, [f"[1] {RPC_REQUEST}", "[0] on the physical channel", "[2] on the added echo channel",
                      "not json: to every channel"])
    got = wait_received(proc, {0: ["on the physical channel", "not json: to every channel"],
                               1: ["", ""],  # two answers, checked below
                               2: ["on the added echo channel", "not json: to every channel"]},
                        context=f"\n--- switchboard serve ---\n{server.proc.dump()}")
    assert got[0] == ["on the physical channel", "not json: to every channel"], proc.dump()
    assert got[2] == ["on the added echo channel", "not json: to every channel"], proc.dump()
    answers = sorted((parse_json(a, proc) for a in got[1]), key=lambda a: "error" in a)  # in any order
    assert answers == [{"jsonrpc": "2.0", "result": 19, "id": 1},
                       {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}], \
        proc.dump()
    reports = channel_reports(proc)
    assert reports.get(1, ("?",))[0] == "jsonrpc", proc.dump()
    assert reports.get(0, ("?",))[0] == "none" and reports.get(2, ("?",))[0] == "none", proc.dump()
    assert finish(proc) == 0, proc.dump() + f"\n--- switchboard serve ---\n{server.proc.dump()}"
    assert len(received(proc)[1]) == 2, "the JSON-RPC channel got more than its two answers\n" + proc.dump()


def test_jsonrpc_channel_without_subprotocol(start_server, start_client):
    """/rpc serves JSON-RPC with no subprotocol too, on a channel as on a socket."""
    server = start_server("--ping-interval", "0")
    proc = start_client(f"{server.base}/echo", "--channel", "/rpc", stdin=subprocess.PIPE)
    send_lines(proc, [f"[1] {RPC_REQUEST}", "[0] echo"])
    got = wait_received(proc, {0: ["echo"], 1: [""]})
    assert parse_json(got[1][0], proc) == {"jsonrpc": "2.0", "result": 19, "id": 1}, proc.dump()
    assert channel_reports(proc).get(1, ("?",))[0] == "none", proc.dump()
    assert finish(proc) == 0, proc.dump()


def test_many_channels_binary_to_our_server(start_server, start_client):
    server = start_server("--ping-interval", "0")
    n = 12
    args = [a for _ in range(n) for a in ("--channel", "/echo")]
    proc = start_client(f"{server.base}/echo", *args, "--binary", stdin=subprocess.PIPE)
    payload = "\u00e9t\u00e9 binary"
    send_lines(proc, [payload])
    want = [f"binary {len(payload.encode())} bytes: {payload.encode().hex()}"]
    got = wait_received(proc, {ch: want for ch in range(n + 1)})
    assert all(got[ch] == want for ch in range(n + 1)), proc.dump()
    assert finish(proc) == 0, proc.dump()


# --- wire checks of `switchboard serve` (docs/multiplexing.md) ------------------------------

WIRE_TOKEN = "mux"  # the checks below also pass against mod_pywebsocket with mux_DO_NOT_USE

def first_control(peer: MuxPeer, timeout=5.0) -> list[Block]:
    """The control blocks the server sends unprompted after the 101, up to and including both a
    FlowControl for channel 1 and a NewChannelSlot (docs/multiplexing.md: it must send both)."""
    blocks: list[Block] = []
    deadline = time.monotonic() + timeout
    while not (any(b.opcode == FLOW_CONTROL and b.channel == 1 for b in blocks)
               and any(b.opcode == NEW_CHANNEL_SLOT for b in blocks)):
        left = deadline - time.monotonic()
        assert left > 0, f"no FlowControl(1) and NewChannelSlot within {timeout}s after the 101: {blocks}"
        events = peer.events(min(left, 0.5), stop_after_one=True)
        for ev in events:
            assert isinstance(ev, list), f"the server sent {ev!r} before any request (so far {blocks})"
            blocks += ev
    return blocks


@pytest.mark.parametrize("offer, answer", [("mux", "mux"), ("mux_DO_NOT_USE", "mux_DO_NOT_USE"),
                                           ("mux_DO_NOT_USE, mux", "mux"), ("mux, mux_DO_NOT_USE", "mux")])
def test_server_answers_the_offered_token_then_grants_quota_and_slots(start_server, offer, answer):
    server = start_server("--ping-interval", "0")
    peer = MuxPeer(server.port, token=offer)
    try:
        assert peer.status == 101, peer.headers
        assert peer.headers.get("sec-websocket-extensions") == answer, peer.headers
        blocks = first_control(peer)
        fc = [b for b in blocks if b.opcode == FLOW_CONTROL]
        slots = [b for b in blocks if b.opcode == NEW_CHANNEL_SLOT]
        assert fc and fc[0].channel == 1 and fc[0].quota > 0, blocks
        assert slots and slots[0].slots > 0 and slots[0].quota > 0 and not slots[0].fallback, blocks
    finally:
        peer.close()


def test_server_drops_only_the_channel_that_overruns_its_quota(start_server):
    server = start_server("--ping-interval", "0")
    peer = MuxPeer(server.port, token=WIRE_TOKEN)
    try:
        blocks = first_control(peer)
        slot_quota = next(b.quota for b in blocks if b.opcode == NEW_CHANNEL_SLOT)
        assert slot_quota < 1 << 24, f"slot quota {slot_quota} too large to overrun in a test"
        for ch in (2, 3):
            peer.add_channel(ch)
        peer.send_control(flow_control(2, 1 << 20), flow_control(3, 1 << 20))
        # slot_quota bytes cost slot_quota + 1 (the +1 per message start): one too many
        peer.send_frame(2, OP_BINARY, b"\x00" * slot_quota)
        peer.send_text(3, "still here")
        events = peer.events(3.0)
        drops = [b for ev in events if isinstance(ev, list) for b in ev if b.opcode == DROP_CHANNEL]
        assert any(b.channel == 2 and b.code == 3005 for b in drops), events
        assert not any(b.channel in (0, 3) for b in drops), events
        assert any(isinstance(ev, Frame) and ev.channel == 3 and ev.opcode == OP_TEXT and ev.payload == b"still here"
                   for ev in events), events
        assert not any(isinstance(ev, PhysicalClose) for ev in events), events
    finally:
        peer.close()


def test_server_acknowledges_drop_channel_with_3008(start_server):
    server = start_server("--ping-interval", "0")
    peer = MuxPeer(server.port, token=WIRE_TOKEN)
    try:
        first_control(peer)
        peer.add_channel(2)
        peer.send_control(drop_channel(2, 3000, b"bye"))
        peer.send_control(flow_control(1, 1024))
        peer.send_text(1, "channel 1 lives on")
        events = peer.events(3.0)
        drops = [b for ev in events if isinstance(ev, list) for b in ev if b.opcode == DROP_CHANNEL]
        assert [(b.channel, b.code) for b in drops] == [(2, 3008)], events
        assert any(isinstance(ev, Frame) and ev.channel == 1 and ev.payload == b"channel 1 lives on"
                   for ev in events), events
    finally:
        peer.close()


def test_server_answers_logical_close_and_keeps_the_connection(start_server):
    server = start_server("--ping-interval", "0")
    peer = MuxPeer(server.port, token=WIRE_TOKEN)
    try:
        first_control(peer)
        peer.add_channel(2)
        peer.send_control(flow_control(2, 1024), flow_control(1, 1024))
        peer.send_close(2, 1000)
        peer.send_text(1, "after the close of 2")
        events = peer.events(3.0)
        closes = [ev for ev in events if isinstance(ev, Frame) and ev.channel == 2 and ev.opcode == OP_CLOSE]
        assert closes and closes[0].payload[:2] == b"\x03\xe8", events
        assert any(isinstance(ev, Frame) and ev.channel == 1 and ev.payload == b"after the close of 2"
                   for ev in events), events
        assert not any(isinstance(ev, PhysicalClose) for ev in events), events
    finally:
        peer.close()
