#!/usr/bin/env python3
"""Writes a seed corpus for one fuzz target of Fuzz/ (scripts/fuzz.sh calls it).

    scripts/fuzz-seeds.py TARGET DIR

The seeds are the shapes our tests use and the Autobahn TestSuite's case groups
exercise (1.x-4.x framing and opcodes, 5.x fragmentation, 6.x UTF-8, 7.x close,
9.x sizes, 12.x-13.x permessage-deflate), written in each target's input format
(see the target's source). libFuzzer grows the corpus from there.
"""
from __future__ import annotations

import base64
import json
import os
import struct
import sys
import zlib

MASK = b"\x37\xfa\x21\x3d"


def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0, masked: bool = True, length_form: int | None = None) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    form = length_form if length_form is not None else (0 if n <= 125 else 1 if n <= 0xFFFF else 2)
    mbit = 0x80 if masked else 0
    if form == 0:
        head += bytes([mbit | n])
    elif form == 1:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


UTF8_CASES = [
    "Hello-µ@ßöäüàá-UTF-8!!".encode(), "κόσμε".encode(), b"\xf4\x8f\xbf\xbf", b"\xef\xbf\xbf",  # valid
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  # surrogate inside
    b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\xaf", b"\xf4\x90\x80\x80", b"\xfe", b"\x80", b"\xed\xbf\xbf",
]


def frames_seeds() -> list[bytes]:
    seeds = []
    for read_control in (0x00, 0x0E, 0xFE):  # server role; reads of 1, 8, 128 bytes
        s = [
            frame(1, b"Hello"), frame(2, bytes(range(256))), frame(2, b"x" * 300), frame(2, b"y" * 70000, length_form=2),
            frame(1, b"Hel", fin=False) + frame(0, b"lo"),
            frame(1, b"frag", fin=False) + frame(9, b"ping") + frame(0, b"ment"),
            frame(9, b"ping payload"), frame(10, b"unsolicited pong"), frame(9, b"p" * 125), frame(9, b"p" * 126),
            frame(8, close_payload(1000, b"bye")), frame(8, b"\x03"), frame(8, close_payload(999)), frame(8, close_payload(1005)),
            frame(8, close_payload(1000, b"\xc0\xaf")), frame(8, b""),
            frame(1, b"rsv", rsv=1), frame(3, b"reserved opcode"), frame(11, b""), frame(0, b"orphan continuation"),
            frame(9, b"fragmented ping", fin=False), frame(1, b"unmasked", masked=False),
            frame(1, b"a", fin=False) + frame(1, b"b"),
            b"\x82\xff" + b"\x7f" + b"\xff" * 7,  # 2^63-ish length
        ]
        s += [frame(1, case) for case in UTF8_CASES]
        s += [frame(1, case[:2], fin=False) + frame(0, case[2:]) for case in UTF8_CASES if len(case) > 2]
        seeds += [bytes([read_control]) + x for x in s]
    # Client role (odd first byte): unmasked frames from a server.
    seeds += [bytes([0x01]) + frame(1, b"from server", masked=False), bytes([0x11]) + frame(8, close_payload(1001), masked=False)]
    return seeds


def handshake_seeds() -> list[bytes]:
    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    base = [
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
        + b"\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET /chat?room=1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
        + key + b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v2, chat.v1\r\nOrigin: http://localhost\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10\r\n\r\n",
        b"GET /echo HTTP/1.0\r\nHost: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
        b"Sec-WebSocket-Version: 8\r\nOrigin: http://evil.example\r\n\r\n",
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"8\"; "
        b"x=\"a\\\"b\", mux; quota=100\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
        b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat.v1\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\n",
        b"GET /echo HTTP/1.1\nHost: bare-newlines\n\n",
    ]
    return [bytes([r]) + b for r in (0, 7, 255) for b in base]


def deflate_raw(data: bytes, wbits: int = -15) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def deflate_seeds() -> list[bytes]:
    payloads = [b"Hello", b"", bytes(range(256)) * 4, b"\x00" * 60000, json.dumps({"a": list(range(100))}).encode()]
    seeds = []
    for control in (0x00, 0x03, 0x87):
        for p in payloads:
            seeds.append(bytes([control]) + deflate_raw(p, -9 if control & 0x80 else -15))
        seeds.append(bytes([control]) + b"\xff\xff\xff\xff not deflate")
        seeds.append(bytes([control]) + deflate_raw(b"a") + b"\x00\x00\xff\xff" + b"trailing")
    return seeds


def mux_seeds() -> list[bytes]:
    def message(payload: bytes, toggle: bool = False) -> bytes:
        return struct.pack("!H", (0x8000 if toggle else 0) | len(payload)) + payload

    def add_channel(channel: int, path: bytes = b"/echo") -> bytes:
        hs = b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\r\n"
        return bytes([0x00, channel]) + (bytes([len(hs)]) if len(hs) <= 125 else b"\x7e" + struct.pack("!H", len(hs))) + hs

    def control(*blocks: bytes) -> bytes:
        return b"\x00" + b"".join(blocks)

    def flow(channel: int, quota: int) -> bytes:
        return bytes([0x40, channel, quota]) if quota <= 125 else bytes([0x40, channel, 0x7e]) + struct.pack("!H", quota)

    def logical(channel: int, opcode: int, payload: bytes, fin: bool = True) -> bytes:
        return bytes([channel, (0x80 if fin else 0) | opcode]) + payload

    open2 = message(control(add_channel(2))) + message(control(flow(2, 1000)))
    return [
        open2 + message(logical(2, 1, b"hello")) + message(logical(1, 2, b"implicit")),
        open2 + message(logical(2, 9, b"p" * 60, fin=False)) + message(logical(2, 0, b"p" * 60)),
        open2 + message(logical(2, 1, b"held"), toggle=True) + message(logical(2, 1, b"more")) + message(b"", toggle=True),
        message(control(*(add_channel(n, b"/nowhere") for n in range(2, 40)))),
        message(control(bytes([0x60, 2, 0x00]))) + message(control(bytes([0x60, 0x00, 0x03, 0x07, 0xd0, 0x78]))),
        open2 + message(logical(2, 8, b"\x03\xe8")) + message(control(bytes([0x60, 2, 0x00]))),
        message(b"\x00\xa0\x01\x02"), message(b"\x00\xff"), message(b"\x80"), message(logical(5, 1, b"no channel")),
        open2 + message(logical(2, 2, b"z" * 2000)),
    ]


def json_seeds() -> list[bytes]:
    texts = [
        '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}',
        '{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":3}',
        '[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"foo":"boo"}]',
        '{"jsonrpc":"2.0","result":19,"id":1}', '{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}',
        '{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]', "[]", "[1,2,3]", '{"name":"x","sizes":[1,2,255],"nested":[{"name":"y"}],"flag":true}',
        '"\\ud83d\\ude00 \\u00e9 \\n\\t\\""', "-0.0e+5", "9223372036854775807", "-9223372036854775808", "1e400", "123456789012345678901234567890",
        "[" * 70 + "]" * 70, '{"a":' * 10 + "null" + "}" * 10, '"\xed\xa0\x80"', "nul", "true false",
    ]
    return [t.encode("utf-8", "surrogateescape") for t in texts]


def xml_seeds() -> list[bytes]:
    env12 = "http://www.w3.org/2003/05/soap-envelope"
    env11 = "http://schemas.xmlsoap.org/soap/envelope/"
    wsa = "http://www.w3.org/2005/08/addressing"
    texts = [
        f'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="{env12}" xmlns:a="{wsa}"><e:Header><a:MessageID>urn:x:1</a:MessageID>'
        f'<a:Action>urn:example:calc/Add</a:Action><t:T xmlns:t="urn:t" e:mustUnderstand="true" e:role="urn:r">1</t:T></e:Header>'
        '<e:Body><Add xmlns="urn:example:calc"><a>2</a><b>3</b></Add></e:Body></e:Envelope>',
        f'<s:Envelope xmlns:s="{env11}"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>x &amp; y</faultstring>'
        '<detail><d>1</d></detail></s:Fault></s:Body></s:Envelope>',
        f'<env:Envelope xmlns:env="{env12}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>'
        '<env:Value xmlns:c="urn:example:calc">c:DivisionByZero</env:Value></env:Subcode></env:Code><env:Reason>'
        '<env:Text xml:lang="en">division by zero</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>',
        '<Shape xmlns="urn:s"><name>n &#x263A; &#65;</name><sizes>1</sizes><sizes>255</sizes><nested><name>m</name></nested>'
        '<flag>1</flag><ratio>INF</ratio></Shape>',
        "<a><![CDATA[<not markup>]]><!-- c --><b x='1' y=\"2\"/>\r\ntext</a>",
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;">]><lolz>&lol1;</lolz>', "<a>&e;</a>", "<?pi x?><a/>",
        "<a>" * 40 + "</a>" * 40, "<p:a xmlns:p='u' p:b='1' b='2'/>", "<a xmlns='u'><b xmlns=''/></a>", "<a></b>", "<a b='<'/>",
        "<message xmlns='jabber:client' to='b@localhost' type='chat'><body>hi</body></message>",
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
    ]
    return [t.encode() for t in texts]


def xmpp_seeds() -> list[bytes]:
    """NUL-separated client messages: whole logins (PLAIN as alice/secret, as the target answers), then stanzas."""
    framing, sasl, bind = "urn:ietf:params:xml:ns:xmpp-framing", "urn:ietf:params:xml:ns:xmpp-sasl", "urn:ietf:params:xml:ns:xmpp-bind"
    open_ = f"<open xmlns='{framing}' to='localhost' version='1.0'/>"
    plain = base64.b64encode(b"\0alice\0secret").decode()
    login = [open_, f"<auth xmlns='{sasl}' mechanism='PLAIN'>{plain}</auth>", open_,
             f"<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='{bind}'><resource>r</resource></bind></iq>"]
    stanzas = [
        "<message xmlns='jabber:client' to='bob@localhost' type='chat'><body>hi</body></message>",
        "<message xmlns='jabber:client' to='bob@localhost' from='mallory@evil'><body>x</body></message>",
        "<presence xmlns='jabber:client'><priority>1</priority></presence>",
        "<iq xmlns='jabber:client' type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq xmlns='jabber:client' type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
        f"<close xmlns='{framing}'/>",
    ]
    wrong = base64.b64encode(b"\0alice\0nope").decode()
    scram = base64.b64encode(b"n,,n=alice,r=abcdef").decode()
    sequences = [
        login + stanzas,
        login,
        [open_, f"<auth xmlns='{sasl}' mechanism='PLAIN'>{wrong}</auth>"] * 4,
        [open_, f"<auth xmlns='{sasl}' mechanism='SCRAM-SHA-1'>{scram}</auth>", f"<response xmlns='{sasl}'>=</response>"],
        [open_, "<message xmlns='jabber:client' to='b@localhost'/>"],
        [f"<open xmlns='{framing}' to='elsewhere' version='1.0'/>"],
    ]
    return ["\0".join(sequence).encode() for sequence in sequences]


SEEDS = {"FuzzFrames": frames_seeds, "FuzzHandshake": handshake_seeds, "FuzzDeflate": deflate_seeds, "FuzzMux": mux_seeds, "FuzzJSON": json_seeds,
         "FuzzXML": xml_seeds, "FuzzXMPP": xmpp_seeds}


def main() -> None:
    target, directory = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    seeds = SEEDS[target]()
    for n, seed in enumerate(seeds):
        with open(os.path.join(directory, f"seed-{n:03d}"), "wb") as f:
            f.write(seed)
    print(f"fuzz-seeds: {len(seeds)} seeds for {target} in {directory}")


if __name__ == "__main__":
    main()
