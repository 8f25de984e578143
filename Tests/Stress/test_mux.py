"""Multiplexing abuse (draft 06 framing, token `mux`): an AddChannelRequest flood
(refusal amplification), a logical ping split into many pieces, a stalled
channel, open/drop churn on one connection, quota violations, and traffic for
channels never opened. The peer is Tests/Interop/mux_peer.py; a thread reads
everything the server sends, counting its bytes."""
from __future__ import annotations

import threading
import time

import pytest

import stress  # noqa: F401 - puts Tests/Interop on sys.path
from mux_peer import (ADD_CHANNEL_RESPONSE, DROP_CHANNEL, FLOW_CONTROL, NEW_CHANNEL_SLOT, Frame, MuxPeer,
                      PhysicalClose, add_channel_request, drop_channel, enc_channel, flow_control)
from stress import KiB, MiB, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, deflate_message, frame

TOKEN = "mux"
FLOOD_BYTES = 4 * MiB             # of AddChannelRequests for an unrouted path, in one message
FLOOD_REPLY_MAX = MiB             # what the server may answer to the whole flood
FLOOD_LATENCY = 1.0               # s, the well-behaved client's echo round trip meanwhile
SPLIT_PIECE = 1000                # bytes per continuation of the split logical ping
SPLIT_MAX = 8 * MiB               # give up (and fail) after sending this much of one ping
SPLIT_DROP_WAIT = 2.0             # s for the drop to come once the ping is past 125 bytes
STALL_MESSAGE = MiB               # messages sent on a channel whose echoes are never granted quota
STALL_MAX = 24 * MiB              # give up (and fail) after this much accepted
STALL_WINDOW = 64 * KiB           # the server's receive window per channel (MuxConfiguration default)
# What a channel whose handler cannot send holds, by design: the message the handler is echoing,
# one more whose echo waits in its outbound queue (sends suspend past 1 MiB unsent), one in its
# inbound buffer (1 MiB bound), and the window of frames left undecoded (+ one window of slack).
STALL_BOUND = 3 * STALL_MESSAGE + 2 * STALL_WINDOW
STALL_DEFLATE_MESSAGE = 8 * MiB   # zeros per message on a channel with permessage-deflate (about 8 KB on the wire)
STALL_DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"
PIECE = 16 * KiB
OPEN_DROP_WARMUP = 512
OPEN_DROP_CYCLES = 20_000         # channels opened, echoed on and dropped on one connection
OPEN_DROP_BATCH = 32
OPEN_DROP_GROWTH_MIB = 10         # RSS growth over the cycles, the connection still open
QUOTA_VIOLATIONS = 100
NEVER_OPENED = 20_000             # frames, FlowControls and DropChannels each, for channels never opened
CREDIT_WAIT = 2.0                 # s without new send quota before a sender counts as stalled

PHYSICAL_DEFLATE = "permessage-deflate; client_no_context_takeover"
FLOOD_HANDSHAKE = b"GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n"


class CountingSocket:
    """Delegates to a socket, counting the bytes recv() returns."""

    def __init__(self, sock):
        self._sock = sock
        self.received = 0

    def recv(self, n, *a):
        data = self._sock.recv(n, *a)
        self.received += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


class MuxReader(threading.Thread):
    """Reads every event of a MuxPeer; keeps the control blocks and frames per channel."""

    def __init__(self, peer: MuxPeer, raw_only: bool = False):
        super().__init__(daemon=True)
        self.peer = peer
        self.raw_only = raw_only  # physical frames only (when they are compressed): bytes and the close
        self.counter = CountingSocket(peer.raw.sock)
        peer.raw.sock = self.counter
        self.cond = threading.Condition()
        self.blocks = []
        self.frames: list[Frame] = []
        self.closed: str | None = None
        self.drop_codes: dict = {}

    def run(self):
        self.counter.settimeout(None)
        try:
            while self.raw_only:
                _fin, op, payload = self.peer.raw.recv_frame()
                if op == OP_CLOSE:
                    with self.cond:
                        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                        self.closed = f"physical close {code}"
                        self.cond.notify_all()
                    return
            while True:
                ev = self.peer.recv()
                with self.cond:
                    if isinstance(ev, list):
                        self.blocks += ev
                        for b in ev:
                            if b.opcode == DROP_CHANNEL:
                                self.drop_codes[b.code] = self.drop_codes.get(b.code, 0) + 1
                    elif isinstance(ev, Frame):
                        self.frames.append(ev)
                    elif isinstance(ev, PhysicalClose):
                        code = int.from_bytes(ev.payload[:2], "big") if len(ev.payload) >= 2 else None
                        self.closed = f"physical close {code}"
                    self.cond.notify_all()
                    if self.closed:
                        return
        except (EOFError, ConnectionError, OSError) as e:
            with self.cond:
                self.closed = self.closed or f"{type(e).__name__}"
                self.cond.notify_all()
        except Exception as e:  # noqa: BLE001 - a codec error in what the server sent
            with self.cond:
                self.closed = f"unparsable: {type(e).__name__}: {e}"[:120]
                self.cond.notify_all()

    @property
    def received(self) -> int:
        return self.counter.received

    def credit(self, ch: int) -> int:
        with self.cond:
            return sum(b.quota for b in self.blocks if b.opcode == FLOW_CONTROL and b.channel == ch)

    def drops(self, ch: int | None = None):
        with self.cond:
            return [b for b in self.blocks if b.opcode == DROP_CHANNEL and (ch is None or b.channel == ch)]

    def wait(self, pred, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0 or (self.closed and not pred()):
                    return pred()
                self.cond.wait(min(left, 0.1))
            return True


def open_peer(port: int, path: str = "/echo", physical_deflate: bool = False):
    """A MuxPeer and its reader, after the server's first FlowControl and NewChannelSlot. With
    physical_deflate, permessage-deflate on the physical connection (listed after mux) and a
    reader of raw frames only (what the server sends is compressed)."""
    offer = f"{TOKEN}, {PHYSICAL_DEFLATE}" if physical_deflate else TOKEN
    peer = MuxPeer(port, path=path, token=offer)
    answer = peer.headers.get("sec-websocket-extensions", "")
    assert peer.status == 101 and answer.startswith(TOKEN), peer.headers
    if physical_deflate:
        assert "permessage-deflate" in answer, peer.headers
    reader = MuxReader(peer, raw_only=physical_deflate)
    reader.start()
    if not physical_deflate:
        ok = reader.wait(lambda: any(b.opcode == NEW_CHANNEL_SLOT for b in reader.blocks)
                         and any(b.opcode == FLOW_CONTROL and b.channel == 1 for b in reader.blocks), 5)
        assert ok, f"no FlowControl(1) and NewChannelSlot after the 101: {reader.blocks}"
    return peer, reader


def slot_quota(reader: MuxReader) -> int:
    return next(b.quota for b in reader.blocks if b.opcode == NEW_CHANNEL_SLOT)


def logical(ch: int, opcode: int, payload: bytes = b"", fin: bool = True) -> bytes:
    """One logical frame as one physical binary frame."""
    return frame(OP_BINARY, enc_channel(ch) + bytes([(0x80 if fin else 0) | opcode]) + payload)


def send_within_quota(peer, reader, ch, frames_iter, limit, stop_pred, deadline):
    """Sends (cost, bytes) items within channel `ch`'s send quota (initial + credits) until
    stop_pred(), `limit` bytes of cost, quota not renewed within CREDIT_WAIT, or `deadline`.
    -> (cost sent, why it stopped)."""
    spent = 0
    initial = slot_quota(reader) if ch != 1 else 0
    for cost, data in frames_iter:
        while True:
            if stop_pred():
                return spent, "dropped"
            if reader.closed:
                return spent, reader.closed
            if spent >= limit:
                return spent, "limit"
            if time.monotonic() > deadline:
                return spent, "time"
            if initial + reader.credit(ch) - spent >= cost:
                break
            before = reader.credit(ch)
            if not reader.wait(lambda: reader.credit(ch) != before or stop_pred(), CREDIT_WAIT):
                return spent, "no more quota"
        peer.raw.sock.sendall(data)
        spent += cost
    return spent, "all sent"


@pytest.mark.parametrize("physical_deflate", [False, True], ids=["plain", "physical permessage-deflate"])
def test_add_channel_request_flood(stress, physical_deflate):
    """Issue 17 #2: refusals must be bounded per connection, and cheap for the event loop."""
    srv = stress.start()
    how = " (deflated)" if physical_deflate else ""
    with stress.measure(f"{FLOOD_BYTES // MiB} MiB of refused AddChannelRequests in one message{how}: connection "
                        f"failed, replies <= {FLOOD_REPLY_MAX // KiB} KiB, others' echo < {FLOOD_LATENCY} s") as m:
        peer, reader = open_peer(srv.port, physical_deflate=physical_deflate)
        try:
            blocks, ch = [], 2
            size = 0
            while size < FLOOD_BYTES:
                b = add_channel_request(ch, FLOOD_HANDSHAKE)
                blocks.append(b)
                size += len(b)
                ch += 1
            before = reader.received
            t0 = time.monotonic()
            message = b"\x00" + b"".join(blocks)
            wire = frame(OP_BINARY, deflate_message(message), rsv=4) if physical_deflate else frame(OP_BINARY, message)
            try:
                peer.raw.sock.sendall(wire)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reader.wait(lambda: reader.closed is not None, 30)
            m.rss()
            replies = reader.received - before
            refusals = sum(1 for b in reader.blocks if b.opcode == ADD_CHANNEL_RESPONSE and b.rejected)
            m.observed = (f"{len(blocks)} requests ({size / MiB:.1f} MiB, {len(wire) / KiB:.0f} KiB on the wire): "
                          f"{reader.closed or 'still open'} after "
                          f"{time.monotonic() - t0:.1f} s; {refusals} refusals, {replies} B answered")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64, max_latency=FLOOD_LATENCY)
    assert reader.closed is not None, m.observed
    assert replies <= FLOOD_REPLY_MAX, m.observed


def test_logical_ping_split_into_pieces(stress):
    """Issue 17 #3: a control frame is refused once past 125 bytes, not at its FIN."""
    srv = stress.start()
    with stress.measure(f"a logical ping in {SPLIT_PIECE}-byte continuations: channel dropped right after the "
                        "piece that takes it past 125 bytes") as m:
        peer, reader = open_peer(srv.port)
        try:
            window = reader.credit(1)

            def ended():
                return bool(reader.drops(1)) or any(f.channel == 1 and f.opcode == OP_CLOSE for f in reader.frames)

            # 101 bytes of ping, then one piece past 125 bytes: the drop should follow at once.
            peer.raw.sock.sendall(logical(1, OP_PING, b"p" * 100, fin=False))
            peer.raw.sock.sendall(logical(1, OP_CONT, b"p" * SPLIT_PIECE, fin=False))
            early = reader.wait(ended, SPLIT_DROP_WAIT)
            sent, why = 102 + SPLIT_PIECE + 1, "dropped"
            if not early:  # go on within the quota the server grants: is each piece credited, MBs taken?
                def pieces():
                    while True:
                        yield SPLIT_PIECE + 1, logical(1, OP_CONT, b"p" * SPLIT_PIECE, fin=False)
                more, why = send_within_quota(peer, reader, 1, pieces(), SPLIT_MAX, ended, time.monotonic() + 20)
                sent += more
                reader.wait(ended, 2)
            m.rss()
            how = ([f"DropChannel {b.code}" for b in reader.drops(1)]
                   + [f"logical close {int.from_bytes(f.payload[:2], 'big')}" for f in reader.frames
                      if f.channel == 1 and f.opcode == OP_CLOSE])
            m.observed = (f"{', '.join(how) or reader.closed or 'channel not dropped'} "
                          f"{'right after the second piece' if early else 'late'}: {sent / KiB:.1f} KiB of one ping "
                          f"sent (window {window / KiB:.0f} KiB), stopped: {why}")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=32, final_growth_mib=32)
    assert how or (reader.closed or "").startswith("physical close"), m.observed
    assert early, m.observed


@pytest.mark.parametrize("deflate", [False, True], ids=["1 MiB messages", "8 MiB of zeros deflated"])
def test_stalled_channel(stress, deflate):
    """Issue 17 #4: a channel whose echoes get no quota holds its window and about a message or two,
    not 18 of them; with permessage-deflate inside the channel, not 18 decoded ones."""
    srv = stress.start()
    if deflate:
        compressed = deflate_message(bytes(STALL_DEFLATE_MESSAGE))
        bound = STALL_WINDOW + 4 * (len(compressed) + 1)
        what = (f"{STALL_DEFLATE_MESSAGE // MiB} MiB-of-zeros messages ({len(compressed)} B deflated) on a channel "
                f"with permessage-deflate")
    else:
        bound = STALL_BOUND
        what = f"{STALL_MESSAGE // MiB} MiB messages on a channel"
    with stress.measure(f"{what} never granted quota for its echoes: accepted <= {bound / KiB:.0f} KiB, "
                        "RSS bounded") as m:
        peer, reader = open_peer(srv.port)
        try:
            peer.add_channel(2, "/echo", extra=STALL_DEFLATE_OFFER if deflate else "")
            ok = reader.wait(lambda: any(b.opcode == ADD_CHANNEL_RESPONSE and b.channel == 2 for b in reader.blocks), 5)
            assert ok, reader.blocks
            response = next(b for b in reader.blocks if b.opcode == ADD_CHANNEL_RESPONSE and b.channel == 2)
            assert not response.rejected, response
            if deflate:
                assert b"permessage-deflate" in response.handshake, response
            window = slot_quota(reader)

            def pieces():
                if deflate:
                    while True:  # RSV1 on the logical frame: compressed
                        yield len(compressed) + 1, frame(OP_BINARY, enc_channel(2) + bytes([0xC0 | OP_BINARY]) + compressed)
                body = b"s" * PIECE
                while True:
                    for i in range(STALL_MESSAGE // PIECE):
                        op = OP_BINARY if i == 0 else OP_CONT
                        fin = i == STALL_MESSAGE // PIECE - 1
                        yield PIECE + (1 if i == 0 else 0), logical(2, op, body, fin=fin)

            accepted, why = send_within_quota(peer, reader, 2, pieces(), STALL_MAX, lambda: bool(reader.drops(2)),
                                              time.monotonic() + 25)
            time.sleep(0.5)
            m.rss()
            m.observed = (f"{accepted / KiB:.0f} KiB accepted on channel 2 (initial quota {window / KiB:.0f} KiB), "
                          f"then {why}")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert accepted <= bound, m.observed


@pytest.mark.timeout(120)
def test_open_drop_cycles(stress):
    """Issue 17 #5: nothing stays resident per channel ever opened on a connection."""
    srv = stress.start()
    with stress.measure(f"{OPEN_DROP_CYCLES} open/echo/drop cycles on one connection: RSS growth < "
                        f"{OPEN_DROP_GROWTH_MIB} MiB with it still open") as m:
        peer, reader = open_peer(srv.port)
        try:
            next_ch = 2
            done = 0

            def cycles(n):
                nonlocal next_ch, done
                for _ in range(0, n, OPEN_DROP_BATCH):
                    chans = list(range(next_ch, next_ch + OPEN_DROP_BATCH))
                    next_ch += OPEN_DROP_BATCH
                    hs = b"GET /echo HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost\r\nConnection: Upgrade\r\n\r\n"
                    peer.send_control(*(add_channel_request(c, hs) for c in chans),
                                      *(flow_control(c, 1024) for c in chans))
                    peer.raw.sock.sendall(b"".join(logical(c, OP_TEXT, b"hello %d" % c) for c in chans))
                    last = chans[-1]
                    ok = reader.wait(lambda: any(f.channel == last for f in reader.frames), 10)
                    assert ok, f"no echo on channel {last}: {reader.closed}, {reader.drop_codes}"
                    peer.send_control(*(drop_channel(c, 3000) for c in chans))
                    target = done + OPEN_DROP_BATCH
                    ok = reader.wait(lambda: reader.drop_codes.get(3008, 0) >= target, 10)
                    assert ok, f"{target} DropChannel 3008 expected: {reader.drop_codes}, {reader.closed}"
                    done = target
                    with reader.cond:  # keep the reader's lists small
                        reader.blocks = [b for b in reader.blocks if b.opcode == DROP_CHANNEL and b.code != 3008]
                        reader.frames.clear()

            cycles(OPEN_DROP_WARMUP)
            time.sleep(0.5)
            base = m.rss()
            t0 = time.monotonic()
            cycles(OPEN_DROP_CYCLES)
            took = time.monotonic() - t0
            time.sleep(1.0)
            after = m.rss()
            other = [b for b in reader.drops() if b.code != 3008]
            growth = (after - base) / 1024
            m.observed = (f"{OPEN_DROP_CYCLES} cycles in {took:.1f} s; RSS {base / 1024:.1f} -> {after / 1024:.1f} MiB "
                          f"(+{growth:.1f}, {(after - base) * 1024 / OPEN_DROP_CYCLES:.0f} B/channel) still open; "
                          f"{len(other)} other drops")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert not other, other[:5]
    assert growth < OPEN_DROP_GROWTH_MIB, m.observed


def test_quota_violations(stress):
    srv = stress.start()
    with stress.measure(f"{QUOTA_VIOLATIONS} channels overrun their quota: each DropChannel 3005; a quota "
                        "overflow: 3006; channel 1 still echoes") as m:
        peer, reader = open_peer(srv.port)
        try:
            quota = slot_quota(reader)
            assert quota < 1 << 24, quota
            chans = list(range(2, 2 + QUOTA_VIOLATIONS))
            for i in range(0, len(chans), 16):  # within the channel slots: each drop frees its slot
                batch = chans[i:i + 16]
                for c in batch:
                    peer.add_channel(c, "/echo")
                    peer.raw.sock.sendall(logical(c, OP_BINARY, b"q" * quota))  # costs quota + 1
                reader.wait(lambda: all(reader.drops(c) for c in batch), 5)
            over = chans[-1] + 1
            peer.add_channel(over, "/echo")
            peer.send_control(flow_control(over, (1 << 63) - 1), flow_control(over, (1 << 63) - 1))
            reader.wait(lambda: bool(reader.drops(over)), 5)
            peer.send_control(flow_control(1, 4096))
            peer.send_text(1, "channel 1 lives on")
            echoed = reader.wait(lambda: any(f.channel == 1 and f.payload == b"channel 1 lives on"
                                             for f in reader.frames), 5)
            codes = {}
            for c in chans:
                for b in reader.drops(c):
                    codes[b.code] = codes.get(b.code, 0) + 1
            over_codes = [b.code for b in reader.drops(over)]
            # Read before peer.close(): closing our end makes the reader thread record an OSError.
            physical = reader.closed
            m.observed = (f"drops by code {codes}; overflow channel: {over_codes}; channel 1 echoed: {echoed}; "
                          f"{physical or 'physical open'}")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=32, final_growth_mib=32)
    assert codes == {3005: QUOTA_VIOLATIONS}, m.observed
    assert over_codes == [3006], m.observed
    assert echoed and physical is None, m.observed


def test_channels_never_opened(stress):
    srv = stress.start()
    with stress.measure(f"{NEVER_OPENED} frames, FlowControls and DropChannels each for channels never opened: "
                        "replies < bytes sent, RSS bounded") as m:
        peer, reader = open_peer(srv.port)
        try:
            sent = 0
            chans = range(200, 200 + NEVER_OPENED)
            try:
                data = b"".join(logical(c, OP_TEXT, b"to nobody") for c in chans)
                peer.raw.sock.sendall(data)
                sent += len(data)
                for blocks in ([flow_control(c, 1 << 20) for c in chans], [drop_channel(c, 3000) for c in chans]):
                    data = frame(OP_BINARY, b"\x00" + b"".join(blocks))
                    peer.raw.sock.sendall(data)
                    sent += len(data)
            except (BrokenPipeError, ConnectionResetError) as e:
                m.observed = f"{type(e).__name__} while sending; "
            reader.wait(lambda: reader.closed is not None, 3)
            m.rss()
            m.observed += (f"{sent / KiB:.0f} KiB sent, {reader.received / KiB:.0f} KiB answered "
                           f"({len(reader.drops())} DropChannels); {reader.closed or 'physical open'}")
        finally:
            peer.close()
    m.assert_healthy(peak_growth_mib=32, final_growth_mib=32)
    assert reader.received <= sent, m.observed
