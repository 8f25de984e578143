"""Frame abuse: every RFC 6455 violation class, a 2^62-byte header, a ping flood,
a peer that sends and never reads."""
from __future__ import annotations

import os
import struct
import time

import pytest

from stress import MiB, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, RawConn, frame, send_until_blocked

PING_FLOOD_BYTES = 40 * MiB      # of 125-byte pings, at most
PING_FLOOD_SECONDS = 8.0
NEVER_READ_BYTES = 50 * MiB      # sent to /echo by a peer that never reads
NEVER_READ_MESSAGE = MiB
BLOCKED_AFTER = 2.0              # s a send may stay blocked before the peer counts as throttled

# (case, frames to send, expected close code). Each frame list is sent on a fresh /echo
# connection that negotiated no extension (so every RSV bit is reserved).
VIOLATIONS = [
    ("RSV1 without an extension", [frame(OP_TEXT, b"x", rsv=4)], 1002),
    ("RSV2", [frame(OP_TEXT, b"x", rsv=2)], 1002),
    ("RSV3", [frame(OP_BINARY, b"x", rsv=1)], 1002),
    ("reserved data opcode 3", [frame(3, b"x")], 1002),
    ("reserved control opcode 0xB", [frame(0xB, b"x")], 1002),
    ("fragmented ping", [frame(OP_PING, b"a", fin=False), frame(OP_CONT, b"b")], 1002),
    ("ping of 126 bytes", [frame(OP_PING, b"p" * 126)], 1002),
    ("close of 126 bytes", [frame(OP_CLOSE, struct.pack("!H", 1000) + b"r" * 124)], 1002),
    ("unmasked client frame", [frame(OP_TEXT, b"hello", masked=False)], 1002),
    ("continuation without a start", [frame(OP_CONT, b"x")], 1002),
    ("text inside a fragmented message", [frame(OP_TEXT, b"a", fin=False), frame(OP_TEXT, b"b")], 1002),
    ("invalid UTF-8 text", [frame(OP_TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80")], 1007),
    ("invalid UTF-8 across fragments", [frame(OP_TEXT, b"ok\xf4", fin=False), frame(OP_CONT, b"\x90\x80\x80")], 1007),
    ("invalid UTF-8 close reason", [frame(OP_CLOSE, struct.pack("!H", 1000) + b"\xff\xfe")], 1007),
    ("close payload of 1 byte", [frame(OP_CLOSE, b"\x03")], 1002),
    ("64-bit length with the top bit set", [frame(OP_BINARY, b"", length=1 << 63)], 1002),
] + [(f"close code {c}", [frame(OP_CLOSE, struct.pack("!H", c))], 1002)
     for c in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)]


@pytest.mark.parametrize("name, frames, code", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_protocol_violation(stress, name, frames, code):
    srv = stress.start("--no-deflate")
    with stress.measure(f"close {code}", settle=0.2) as m:
        conn = RawConn(srv.port).start_reader()
        try:
            try:
                for f in frames:
                    conn.send_raw(f)
            except (BrokenPipeError, ConnectionResetError):
                pass
            conn.wait_end(5)
            m.observed = conn.outcome()
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=16, final_growth_mib=16)
    assert conn.code == code, m.observed


def test_frame_announcing_2_to_62_bytes(stress):
    srv = stress.start()
    with stress.measure("close 1009 (message too big) at once") as m:
        conn = RawConn(srv.port).start_reader()
        try:
            conn.send_raw(frame(OP_BINARY, b"", length=1 << 62) + os.urandom(64 * 1024))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            conn.wait_end(5)
            m.observed = conn.outcome()
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=16, final_growth_mib=16)
    assert conn.code == 1009, m.observed


@pytest.mark.timeout(60)
def test_ping_flood_without_reading_pongs(stress):
    srv = stress.start()
    ping = frame(OP_PING, b"p" * 125)
    batch = ping * 512  # 67 KiB
    with stress.measure(f"pings (up to {PING_FLOOD_BYTES // MiB} MB) never read: closed or throttled, "
                        "RSS bounded") as m:
        conn = RawConn(srv.port, rcvbuf=4096)
        try:
            sent, how = send_until_blocked(conn, batch, PING_FLOOD_BYTES, BLOCKED_AFTER,
                                           time.monotonic() + PING_FLOOD_SECONDS)
            m.rss()
            m.observed = f"{sent / MiB:.1f} MB of pings taken, then {how}"
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert how in ("throttled", "closed"), m.observed


@pytest.mark.timeout(60)
def test_peer_that_sends_and_never_reads(stress):
    srv = stress.start()
    message = frame(OP_BINARY, os.urandom(NEVER_READ_MESSAGE))
    with stress.measure(f"{NEVER_READ_BYTES // MiB} MB echoed to a peer that never reads: the server "
                        "stops reading (throttled), RSS bounded") as m:
        conn = RawConn(srv.port, rcvbuf=4096)
        try:
            sent, how = send_until_blocked(conn, message, NEVER_READ_BYTES, BLOCKED_AFTER, time.monotonic() + 30)
            m.rss()
            m.observed = f"{sent / MiB:.1f} MB taken, then {how}"
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)
    assert how in ("throttled", "closed"), m.observed


@pytest.mark.timeout(60)
def test_failed_connection_whose_peer_keeps_sending(stress):
    """After a protocol error the server closes its output and drains input (so no reset eats its close
    frame), but only for its linger of 2 s: a peer that keeps sending and never closes is cut off."""
    srv = stress.start("--no-deflate")
    with stress.measure("close 1002, then TCP ends within the 2 s linger though the peer keeps sending", settle=0.2) as m:
        conn = RawConn(srv.port).start_reader()
        sent = 0
        try:
            conn.send_raw(frame(OP_TEXT, b"x", rsv=4))  # RSV1 with no extension: 1002
            failed_at = time.monotonic()
            chunk = frame(OP_BINARY, os.urandom(16 * 1024))
            try:
                while time.monotonic() - failed_at < 8:
                    conn.send_raw(chunk)
                    sent += len(chunk)
                    time.sleep(0.002)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            cut_after = time.monotonic() - failed_at
            conn.wait_end(5)
            m.observed = f"{conn.outcome()}; the server ended TCP {cut_after:.1f} s after the failure, {sent / MiB:.1f} MiB sent meanwhile"
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=16, final_growth_mib=16)
    assert conn.code == 1002, m.observed
    assert cut_after < 6, m.observed
