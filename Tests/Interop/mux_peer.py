"""A minimal blocking multiplexing (draft-ietf-hybi-websocket-multiplexing-06)
peer on top of rawws.RawClient, for wire-level checks of either side: encode
and decode control blocks and logical frames, one physical binary message per
multiplexed message. Written from docs/multiplexing.md, not from
mod_pywebsocket's code. Loopback only."""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawClient

ADD_CHANNEL_REQUEST, ADD_CHANNEL_RESPONSE, FLOW_CONTROL, DROP_CHANNEL, NEW_CHANNEL_SLOT = range(5)
OPCODE_NAMES = {0: "AddChannelRequest", 1: "AddChannelResponse", 2: "FlowControl", 3: "DropChannel",
                4: "NewChannelSlot"}


# --- numbers and channel IDs ---------------------------------------------------------

def enc_channel(ch: int) -> bytes:
    if ch < 1 << 7:
        return bytes([ch])
    if ch < 1 << 14:
        return struct.pack("!H", 0x8000 | ch)
    if ch < 1 << 21:
        return bytes([0xC0 | (ch >> 16)]) + struct.pack("!H", ch & 0xFFFF)
    if ch < 1 << 29:
        return struct.pack("!L", 0xE0000000 | ch)
    raise ValueError(ch)


def dec_channel(b: bytes, pos: int = 0) -> tuple[int, int]:
    """-> (channel, new position)."""
    first = b[pos]
    if first & 0xE0 == 0xE0:
        return struct.unpack("!L", b[pos:pos + 4])[0] & 0x1FFFFFFF, pos + 4
    if first & 0xC0 == 0xC0:
        return ((first & 0x1F) << 16) | struct.unpack("!H", b[pos + 1:pos + 3])[0], pos + 3
    if first & 0x80:
        return struct.unpack("!H", b[pos:pos + 2])[0] & 0x3FFF, pos + 2
    return first, pos + 1


def enc_number(n: int) -> bytes:
    if n <= 125:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\x7e" + struct.pack("!H", n)
    return b"\x7f" + struct.pack("!Q", n)


def dec_number(b: bytes, pos: int) -> tuple[int, int]:
    first = b[pos]
    if first & 0x80:
        raise ValueError("number with the top bit set")
    if first == 126:
        return struct.unpack("!H", b[pos + 1:pos + 3])[0], pos + 3
    if first == 127:
        return struct.unpack("!Q", b[pos + 1:pos + 9])[0], pos + 9
    return first, pos + 1


# --- control blocks ------------------------------------------------------------------

@dataclass
class Block:
    opcode: int
    channel: int = 0
    encoding: int = 0            # AddChannelRequest/Response
    rejected: bool = False       # AddChannelResponse F
    handshake: bytes = b""       # AddChannelRequest/Response
    quota: int = 0               # FlowControl, NewChannelSlot (initial send quota)
    slots: int = 0               # NewChannelSlot
    fallback: bool = False       # NewChannelSlot F
    code: int | None = None      # DropChannel
    reason: bytes = b""          # DropChannel message

    def __repr__(self):
        name = OPCODE_NAMES.get(self.opcode, str(self.opcode))
        if self.opcode == FLOW_CONTROL:
            return f"FlowControl({self.channel}, {self.quota})"
        if self.opcode == NEW_CHANNEL_SLOT:
            return f"NewChannelSlot({self.slots}, {self.quota}{', fallback' if self.fallback else ''})"
        if self.opcode == DROP_CHANNEL:
            return f"DropChannel({self.channel}, {self.code}, {self.reason!r})"
        if self.opcode in (ADD_CHANNEL_REQUEST, ADD_CHANNEL_RESPONSE):
            rej = ", rejected" if self.rejected else ""
            return f"{name}({self.channel}, enc={self.encoding}{rej}, {self.handshake!r})"
        return name


def add_channel_request(ch: int, handshake: bytes, encoding: int = 0) -> bytes:
    return bytes([(ADD_CHANNEL_REQUEST << 5) | encoding]) + enc_channel(ch) + enc_number(len(handshake)) + handshake


def flow_control(ch: int, quota: int) -> bytes:
    return bytes([FLOW_CONTROL << 5]) + enc_channel(ch) + enc_number(quota)


def drop_channel(ch: int, code: int | None = None, reason: bytes = b"") -> bytes:
    body = b"" if code is None else struct.pack("!H", code) + reason
    return bytes([DROP_CHANNEL << 5]) + enc_channel(ch) + enc_number(len(body)) + body


def parse_blocks(payload: bytes) -> list[Block]:
    """The control blocks of a channel-0 message (after its channel ID)."""
    out, pos = [], 0
    while pos < len(payload):
        first = payload[pos]
        pos += 1
        op = first >> 5
        if op in (ADD_CHANNEL_REQUEST, ADD_CHANNEL_RESPONSE):
            ch, pos = dec_channel(payload, pos)
            size, pos = dec_number(payload, pos)
            out.append(Block(op, ch, encoding=first & 3, rejected=bool(first & 0x10) and op == ADD_CHANNEL_RESPONSE,
                             handshake=payload[pos:pos + size]))
            pos += size
        elif op == FLOW_CONTROL:
            ch, pos = dec_channel(payload, pos)
            q, pos = dec_number(payload, pos)
            out.append(Block(op, ch, quota=q))
        elif op == DROP_CHANNEL:
            ch, pos = dec_channel(payload, pos)
            size, pos = dec_number(payload, pos)
            reason = payload[pos:pos + size]
            pos += size
            b = Block(op, ch)
            if len(reason) >= 2:
                b.code, b.reason = struct.unpack("!H", reason[:2])[0], reason[2:]
            out.append(b)
        elif op == NEW_CHANNEL_SLOT:
            slots, pos = dec_number(payload, pos)
            q, pos = dec_number(payload, pos)
            out.append(Block(op, slots=slots, quota=q, fallback=bool(first & 1)))
        else:
            raise ValueError(f"unknown mux opcode {op} in {payload!r}")
    return out


# --- events --------------------------------------------------------------------------

@dataclass
class Frame:
    channel: int
    fin: bool
    opcode: int
    payload: bytes


@dataclass
class PhysicalClose:
    payload: bytes


@dataclass
class Physical:
    opcode: int  # a physical non-binary message (ping, pong, text)
    payload: bytes


@dataclass
class MuxPeer:
    """A client speaking mux over one raw socket. recv() returns one event:
    a list of control Blocks, a logical Frame, a PhysicalClose or Physical."""
    port: int
    path: str = "/echo"
    token: str = "mux_DO_NOT_USE"
    extra_headers: str = ""
    timeout: float = 5.0
    raw: RawClient = field(init=False)

    def __post_init__(self):
        self.raw = RawClient(self.port, self.path, timeout=self.timeout,
                             extra_headers=f"Sec-WebSocket-Extensions: {self.token}\r\n{self.extra_headers}")

    @property
    def status(self):
        return self.raw.status

    @property
    def headers(self):
        return self.raw.headers

    # sending
    def send_control(self, *blocks: bytes):
        self.raw.send_frame(OP_BINARY, b"\x00" + b"".join(blocks))

    def send_frame(self, ch: int, opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0):
        self.raw.send_frame(OP_BINARY, enc_channel(ch) + bytes([(0x80 if fin else 0) | (rsv << 4) | opcode]) + payload)

    def send_text(self, ch: int, text: str):
        self.send_frame(ch, OP_TEXT, text.encode())

    def send_close(self, ch: int, code: int | None = 1000, reason: bytes = b""):
        self.send_frame(ch, OP_CLOSE, b"" if code is None else struct.pack("!H", code) + reason)

    def add_channel(self, ch: int, path: str = "/echo", host: str = "localhost", extra: str = "",
                    encoding: int = 0):
        hs = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://localhost\r\nConnection: Upgrade\r\n{extra}\r\n"
        self.send_control(add_channel_request(ch, hs.encode(), encoding))

    def close_physical(self, code: int | None = 1000):
        self.raw.send_frame(OP_CLOSE, b"" if code is None else struct.pack("!H", code))

    # receiving
    def recv(self):
        op, payload, parts = None, b"", []
        while True:
            fin, opcode, data = self.raw.recv_frame()
            if opcode in (OP_CLOSE, OP_PING, OP_PONG):
                if opcode == OP_CLOSE:
                    return PhysicalClose(data)
                return Physical(opcode, data)
            if op is None:
                op = opcode
            parts.append(data)
            if fin:
                break
        payload = b"".join(parts)
        if op != OP_BINARY:
            return Physical(op, payload)
        ch, pos = dec_channel(payload)
        if ch == 0:
            return parse_blocks(payload[pos:])
        b = payload[pos]
        return Frame(ch, bool(b & 0x80), b & 0x0F, payload[pos + 1:])

    def events(self, seconds: float = 1.0, stop_after_one: bool = False):
        """Every event until the socket is quiet for `seconds` or closes (or the first one)."""
        out = []
        self.raw.sock.settimeout(seconds)
        try:
            while True:
                ev = self.recv()
                out.append(ev)
                if isinstance(ev, PhysicalClose) or stop_after_one:
                    break
        except (socket.timeout, EOFError, ConnectionError):
            pass
        finally:
            self.raw.sock.settimeout(self.timeout)
        return out

    def close(self):
        try:
            self.raw.sock.close()
        except OSError:
            pass


__all__ = ["MuxPeer", "Block", "Frame", "PhysicalClose", "Physical", "flow_control", "drop_channel",
           "add_channel_request", "parse_blocks", "enc_channel", "enc_number",
           "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG",
           "ADD_CHANNEL_REQUEST", "ADD_CHANNEL_RESPONSE", "FLOW_CONTROL", "DROP_CHANNEL", "NEW_CHANNEL_SLOT"]
