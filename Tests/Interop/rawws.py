"""A minimal blocking WebSocket client on a raw socket, for wire-level checks
the `websockets` API cannot express (a UTF-8 sequence split across fragments,
a ping between fragments, a close frame without a body). Loopback only."""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


class RawClient:
    def __init__(self, port: int, path: str = "/echo", timeout: float = 10.0, extra_headers: str = ""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{extra_headers}\r\n")
        self.sock.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("connection closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            assert self.headers.get("sec-websocket-accept") == accept_for(key), self.headers

    def send_frame(self, opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, masked: bool = True):
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        m = 0x80 if masked else 0
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, m | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, m | 127, n)
        if masked:
            mask = os.urandom(4)
            hdr += mask
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + payload)

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """-> (fin, opcode, payload); server frames must not be masked."""
        b0, b1 = self._take(2)
        assert not (b1 & 0x80), "server-to-client frame is masked (RFC 6455 5.1)"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._take(n)

    def recv_message(self):
        """Assemble one data message, answering nothing; returns (opcode, payload) or (OP_CLOSE, body)."""
        opcode, data = None, b""
        while True:
            fin, op, payload = self.recv_frame()
            if op >= 8:
                if op == OP_CLOSE:
                    return op, payload
                continue  # pings/pongs are not part of a message
            if opcode is None:
                opcode = op
            data += payload
            if fin:
                return opcode, data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def close_code(body: bytes):
    return struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
