"""Helpers of the load-and-abuse suite (issue 17): the server's resident memory,
a well-behaved client that keeps checking it is served, fast raw frames, and a
raw connection that reads in a thread while the test writes.

The wire clients come from Tests/Interop (rawws.RawClient, mux_peer.MuxPeer,
jsonrpc_client): this module only adds what a flood needs on top of them.
Loopback only; every wait is bounded."""
from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

INTEROP = Path(__file__).resolve().parents[1] / "Interop"
if str(INTEROP) not in sys.path:
    sys.path.append(str(INTEROP))

from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawClient, close_code  # noqa: E402

from websockets.sync.client import connect as ws_connect  # noqa: E402

MiB = 1 << 20
KiB = 1 << 10

RSS_SAMPLE_INTERVAL = 0.05   # s, the peak sampler
PROBE_INTERVAL = 0.2         # s between two round trips of the well-behaved client
PROBE_TIMEOUT = float(os.environ.get("STRESS_PROBE_TIMEOUT", "3"))  # s, one round trip (or connect)
SEND_PIECE = 64 * 1024       # bytes per sendall in send_until_blocked
DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"


# --- memory --------------------------------------------------------------------------

def rss_kib(pid: int) -> int | None:
    """VmRSS of `pid` in KiB, None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


class RssSampler(threading.Thread):
    """Samples VmRSS every RSS_SAMPLE_INTERVAL until stopped; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid) or 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(RSS_SAMPLE_INTERVAL):
            v = rss_kib(self.pid)
            if v is None:
                return
            self.peak = max(self.peak, v)

    def sample(self) -> int | None:
        v = rss_kib(self.pid)
        if v is not None:
            self.peak = max(self.peak, v)
        return v

    def stop(self):
        self._stop_event.set()
        self.join(timeout=2)


# --- the well-behaved client ---------------------------------------------------------

def echo_once(port: int, timeout: float = PROBE_TIMEOUT, payload: str = "well-behaved") -> float:
    """One fresh Python `websockets` connection to /echo, one round trip: its latency in s (raises on failure)."""
    t0 = time.monotonic()
    with ws_connect(f"ws://127.0.0.1:{port}/echo", open_timeout=timeout, close_timeout=1, max_size=None) as ws:
        t1 = time.monotonic()
        ws.send(payload)
        answer = ws.recv(timeout=timeout)
        latency = time.monotonic() - t1
        if answer != payload:
            raise AssertionError(f"echo answered {answer!r}")
    if time.monotonic() - t0 > 2 * timeout:
        raise TimeoutError("connect + round trip too slow")
    return latency


class Probe(threading.Thread):
    """A well-behaved client on one connection to /echo: a round trip every PROBE_INTERVAL,
    each bounded by PROBE_TIMEOUT; reconnects after a failure. Counts, worst latency, errors."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.ok = 0
        self.failed = 0
        self.max_latency = 0.0
        self.errors: list[str] = []
        self._stop_event = threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        n = 0
        while not self._stop_event.is_set():
            try:
                with ws_connect(f"ws://127.0.0.1:{self.port}/echo", open_timeout=PROBE_TIMEOUT,
                                close_timeout=1, max_size=None) as ws:
                    while not self._stop_event.is_set():
                        n += 1
                        msg = f"probe {n}"
                        t0 = time.monotonic()
                        ws.send(msg)
                        answer = ws.recv(timeout=PROBE_TIMEOUT)
                        lat = time.monotonic() - t0
                        if answer != msg:
                            raise AssertionError(f"echo answered {answer!r} to {msg!r}")
                        self.ok += 1
                        self.max_latency = max(self.max_latency, lat)
                        self._stop_event.wait(PROBE_INTERVAL)
            except Exception as e:  # noqa: BLE001 - every failure counts, whatever it is
                if self._stop_event.is_set():
                    break
                self.failed += 1
                self.errors.append(f"at {time.monotonic() - self.t0:.1f} s: {type(e).__name__}: {e}"[:200])
                self._stop_event.wait(PROBE_INTERVAL)

    def wait_first(self, timeout: float):
        deadline = time.monotonic() + timeout
        while self.ok + self.failed == 0 and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.02)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=PROBE_TIMEOUT + 2)


# --- frames --------------------------------------------------------------------------

def mask_bytes(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key, at C speed (big integers), for payloads of megabytes."""
    n = len(payload)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, masked: bool = True,
          length: int | None = None) -> bytes:
    """One client frame as bytes. `length` overrides the announced payload length (a lie)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if masked else 0
    n = len(payload) if length is None else length
    if n < 126:
        hdr = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if not masked:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + mask_bytes(payload, key)


def deflate_message(data: bytes) -> bytes:
    """permessage-deflate payload of one message (RFC 7692 7.2.1: raw deflate, the tail 00 00 ff ff removed)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def deflate_zeros(total: int, chunk: int = MiB) -> bytes:
    """permessage-deflate payload of `total` zero bytes, without holding them all."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    parts, left = [], total
    while left > 0:
        parts.append(c.compress(zeros[:min(chunk, left)]))
        left -= chunk
    parts.append(c.flush(zlib.Z_SYNC_FLUSH))
    out = b"".join(parts)
    return out[:-4]


# --- a raw connection read in a thread -------------------------------------------------

class RawConn:
    """rawws.RawClient's handshake, then: send_raw() from the test's thread, and (after
    start_reader()) a thread that reads every frame, counting bytes, until the close or EOF."""

    def __init__(self, port: int, path: str = "/echo", extra_headers: str = "", timeout: float = 10.0,
                 rcvbuf: int | None = None, sndbuf: int | None = None):
        self.client = RawClient(port, path, timeout=timeout, extra_headers=extra_headers)
        self.sock = self.client.sock
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.status = self.client.status
        self.headers = self.client.headers
        self.sent = 0
        self.received_bytes = 0
        self.frames = 0
        self.close_body: bytes | None = None
        self.ended: str | None = None   # how the read side ended: "close", "EOF", "reset", ...
        self._done = threading.Event()
        self._reader: threading.Thread | None = None

    def send_raw(self, data: bytes):
        self.sock.sendall(data)
        self.sent += len(data)

    def send_frame(self, *args, **kw):
        self.send_raw(frame(*args, **kw))

    def start_reader(self):
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        c = self.client
        try:
            c.sock.settimeout(None)
            while True:
                _fin, op, payload = c.recv_frame()
                self.frames += 1
                self.received_bytes += len(payload) + 2
                if op == OP_CLOSE:
                    self.close_body = payload
                    self.ended = "close"
                    return
        except EOFError:
            self.ended = "EOF"
        except ConnectionResetError:
            self.ended = "reset"
        except OSError as e:
            self.ended = f"{type(e).__name__}"
        finally:
            self._done.set()

    def wait_end(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    @property
    def code(self):
        return close_code(self.close_body) if self.close_body is not None else None

    def outcome(self) -> str:
        if self.close_body is not None:
            return f"close {self.code}"
        return self.ended or "open"

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.client.close()
        if self._reader is not None:
            self._reader.join(timeout=2)


def send_until_blocked(conn: RawConn, data: bytes, total: int, block_timeout: float, deadline: float):
    """Sends `data` repeatedly until `total` bytes went out, a send is blocked for `block_timeout`
    (the server stopped reading: throttled), the peer closes, or `deadline` passes.
    -> (bytes sent, how it stopped)."""
    conn.sock.settimeout(block_timeout)
    sent = 0
    try:
        data = memoryview(data)
        while sent < total:
            for pos in range(0, len(data), SEND_PIECE):  # small pieces: a timeout loses little count
                if time.monotonic() > deadline:
                    return sent, "time"
                view = data[pos:pos + min(SEND_PIECE, total - sent)]
                conn.sock.sendall(view)
                sent += len(view)
                conn.sent += len(view)
                if sent >= total:
                    break
        return sent, "all sent"
    except (socket.timeout, TimeoutError):
        return sent, "throttled"
    except (BrokenPipeError, ConnectionResetError):
        return sent, "closed"
    finally:
        try:
            conn.sock.settimeout(10)
        except OSError:
            pass


__all__ = ["MiB", "KiB", "OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG", "OP_TEXT", "RawClient",
           "close_code", "rss_kib", "mib", "RssSampler", "Probe", "echo_once", "frame", "mask_bytes",
           "deflate_message", "deflate_zeros", "RawConn", "send_until_blocked", "DEFLATE_OFFER",
           "PROBE_TIMEOUT"]
