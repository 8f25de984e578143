"""Wire-level checks of `switchboard serve` with a raw-socket client: what the
`websockets` API cannot send (fragments that split a UTF-8 sequence, a ping
between fragments, malformed frames). Autobahn covers these exhaustively;
these few make a regression show up in seconds, with a readable name."""
from __future__ import annotations

import struct

import pytest

from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawClient, close_code


def expect_close(c: RawClient, codes):
    """Read frames until a close frame; assert its code; the server then closes TCP."""
    for _ in range(100):
        fin, op, payload = c.recv_frame()
        if op == OP_CLOSE:
            code = close_code(payload)
            assert code in codes, f"close code {code}, expected one of {codes}"
            return code
    raise AssertionError("no close frame")


def test_utf8_sequence_split_across_fragments(server):
    with RawClient(server.port) as c:
        assert c.status == 101
        smiley = "\U0001F600".encode()
        c.send_frame(OP_TEXT, b"a" + smiley[:2], fin=False)
        c.send_frame(OP_CONT, smiley[2:] + b"b", fin=True)
        op, data = c.recv_message()
        assert op == OP_TEXT and data == b"a" + smiley + b"b"


def test_ping_between_fragments(server):
    # RFC 6455 5.4: control frames may be injected in the middle of a fragmented message
    with RawClient(server.port) as c:
        c.send_frame(OP_BINARY, b"ab", fin=False)
        c.send_frame(OP_PING, b"between")
        c.send_frame(OP_CONT, b"cd", fin=True)
        fin, op, payload = c.recv_frame()
        assert (op, payload) == (OP_PONG, b"between")
        op, data = c.recv_message()
        assert (op, data) == (OP_BINARY, b"abcd")


def test_close_without_body(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_CLOSE, b"")
        fin, op, payload = c.recv_frame()
        assert op == OP_CLOSE
        assert close_code(payload) in (None, 1000)


def test_invalid_utf8_closes_1007(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_TEXT, b"ok\xc0\xaf")  # overlong encoding
        expect_close(c, {1007})


def test_invalid_utf8_in_first_fragment_closes_1007(server):
    # fail fast: the impossible sequence is in the first fragment (RFC 6455 8.1)
    with RawClient(server.port) as c:
        c.send_frame(OP_TEXT, b"\xff", fin=False)
        expect_close(c, {1007})


def test_unmasked_client_frame_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_TEXT, b"not masked", masked=False)
        expect_close(c, {1002})


@pytest.mark.parametrize("opcode", [3, 7, 0xB, 0xF])
def test_reserved_opcode_closes_1002(server, opcode):
    with RawClient(server.port) as c:
        c.send_frame(opcode, b"x")
        expect_close(c, {1002})


def test_rsv_bit_without_extension_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_TEXT, b"x", rsv=0b100)
        expect_close(c, {1002})


def test_oversized_control_frame_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_PING, b"x" * 126)
        expect_close(c, {1002})


def test_fragmented_control_frame_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_PING, b"x", fin=False)
        expect_close(c, {1002})


def test_continuation_without_start_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_CONT, b"x", fin=True)
        expect_close(c, {1002})


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2999, 5000])
def test_invalid_close_code_closes_1002(server, code):
    with RawClient(server.port) as c:
        c.send_frame(OP_CLOSE, struct.pack("!H", code))
        expect_close(c, {1002})


def test_close_with_one_byte_body_closes_1002(server):
    with RawClient(server.port) as c:
        c.send_frame(OP_CLOSE, b"\x03")
        expect_close(c, {1002})


def _sockets_of(pid: int):
    """The TCP sockets of process `pid`, duplicated into ours (pidfd_getfd, Linux 5.6+): (fd, peer) pairs."""
    import ctypes
    import os
    import socket

    libc = ctypes.CDLL(None, use_errno=True)
    SYS_pidfd_open, SYS_pidfd_getfd = 434, 438  # x86-64 and aarch64 alike
    pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
    assert pidfd >= 0, f"pidfd_open failed: errno {ctypes.get_errno()}"
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            local = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
            assert local >= 0, f"pidfd_getfd failed: errno {ctypes.get_errno()}"
            yield socket.socket(fileno=local)
    finally:
        os.close(pidfd)


def test_accepted_connections_have_nodelay(server):
    # The server sets no option on accepted sockets: it relies on the kernel copying the
    # listener's TCP_NODELAY (which NIO sets) into them. Without it, Nagle's algorithm would
    # hold back small answers behind unacknowledged ones.
    import socket

    with RawClient(server.port) as c:
        assert c.status == 101
        client_port = c.sock.getsockname()[1]
        seen = {}
        for s in _sockets_of(server.proc.proc.pid):
            try:
                if s.family == socket.AF_INET and s.type == socket.SOCK_STREAM:
                    try:
                        peer = s.getpeername()
                    except OSError:
                        peer = None  # the listener
                    seen[peer] = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                s.close()  # our duplicate only
        assert seen.get(("127.0.0.1", client_port)) == 1, seen
        assert seen.get(None) == 1, seen
