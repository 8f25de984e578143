"""SOAP abuse against the calculator demo at /soap: entity bombs, external and
undeclared entities, deep nesting, attribute and namespace floods, envelopes past
the 1 MiB SOAP limit, a flood of hostile envelopes sent without reading, a binary
message, and 1 MiB of empty elements (under every limit) sent back to back.

The client is Python `websockets` with compression off (the bytes on the wire are
the envelope), subprotocol `soap`, the version named by `soap-content-type`; the
flood uses stress.RawConn. Answers are read with xml.etree (they come from the
server under test, which never sends a DTD). Hostile XML must get a Sender
(1.1: Client) fault and leave the connection open: an Add is then answered on the
same socket."""
from __future__ import annotations

import select
import socket
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from websockets.exceptions import ConnectionClosed

from websockets.sync.client import connect as ws_connect

from stress import MiB, OP_CLOSE, OP_TEXT, PROBE_TIMEOUT, RawConn, close_code, frame

CALC = "urn:example:calc"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
# version -> (envelope namespace, soap-content-type, the fault code a malformed message gets)
VERSIONS = {
    "soap12": (ENV12, "application/soap+xml; charset=utf-8", "Sender"),
    "soap11": (ENV11, "text/xml; charset=utf-8", "Client"),
}
ADD = f'<Add xmlns="{CALC}"><a>2</a><b>3</b></Add>'
ADD_ANSWER = "result 5"

SOAP_LIMIT = MiB                 # SOAPConfiguration.maxMessageSize default: larger is a Sender fault, unparsed
HUGE_ENVELOPE = 15 * MiB         # past the SOAP limit, under serve's 16 MiB WebSocket message limit
MAX_DEPTH = 32                   # SOAPConfiguration defaults: nesting, attributes per element,
MAX_ATTRIBUTES = 32              # namespace declarations per envelope
MAX_DECLARATIONS = 64
LAUGHS_LEVELS = 9                # billion laughs: 10^9 "lol"s once expanded (about 3 GB)
ATTRIBUTES = 100_000
DECLARATIONS = 10_000
FLOOD = 2000                     # hostile envelopes sent back to back before reading any answer
FLOOD_SEND_TIMEOUT = 10.0        # s the flood may take to go out before the answers are read anyway
MAX_ELEMENTS = 50_000           # SOAPConfiguration.maxElements default
ELEMENT_BOMB_ENVELOPES = 3       # envelopes of ~1 MiB of empty elements, sent back to back
ELEMENT_WATCHERS = 4             # echo connections beside it: round-robin puts one on every loop of 2 cores
ANSWER_TIMEOUT = 15.0            # s, one answer
# RSS bounds (MiB of growth over the idle server, which sits at 20-30 MiB on a debug build). Observed on a
# debug build: the small cases grow it under 1 MiB; a 15 MiB envelope about +22 peak (the message
# itself), +3 after; the 2,000-envelope flood about +2; the element bomb about +45 peak while a tree is
# built (35x the envelope's size), back within 5 of idle after. Echo stalls beside the element bomb: plain
# 1.5-1.8 s (one envelope's parse), deflated 4.6-4.8 s (all three parsed before the loop serves anyone else).
SMALL_PEAK, SMALL_FINAL = 16, 16
HUGE_PEAK, HUGE_FINAL = 64, 16
FLOOD_PEAK, FLOOD_FINAL = 32, 16
ELEMENT_BOMB_PEAK, ELEMENT_BOMB_FINAL = 96, 16


# --- envelopes -----------------------------------------------------------------------------

def envelope(body: str, version: str = "soap12", prolog: str = "", envelope_attrs: str = "", body_attrs: str = "") -> str:
    ns = VERSIONS[version][0]
    return (f'{prolog}<env:Envelope xmlns:env="{ns}"{envelope_attrs}>'
            f'<env:Body{body_attrs}>{body}</env:Body></env:Envelope>')


def billion_laughs(version: str = "soap12") -> str:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, LAUGHS_LEVELS + 1))
    return envelope(f"<Add xmlns=\"{CALC}\"><a>&lol{LAUGHS_LEVELS};</a><b>3</b></Add>", version,
                    prolog=f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>')


def external_entity(version: str = "soap12", canary_port: int | None = None) -> str:
    """`&e;` is /etc/passwd; `&f;` (with a canary) a URL on a socket the test listens on."""
    url = f'<!ENTITY f SYSTEM "http://127.0.0.1:{canary_port}/xxe">' if canary_port else ""
    refs = "&e;&f;" if canary_port else "&e;"
    return envelope(f'<Add xmlns="{CALC}"><a>{refs}</a><b>3</b></Add>', version,
                    prolog=f'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">{url}]>')


def undeclared_entity(version: str = "soap12") -> str:
    return envelope(f'<Add xmlns="{CALC}"><a>&e;</a><b>3</b></Add>', version)


def nesting(depth: int, closed: bool) -> str:
    return envelope("<a>" * depth + ("</a>" * depth if closed else ""))


def short_names(n: int) -> list[str]:
    """n distinct 3-letter names: 100,000 attributes `abc=""` fit in 700 KB, under the SOAP limit."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[i // 2704] + letters[i // 52 % 52] + letters[i % 52] for i in range(n)]


def many_attributes(n: int) -> str:
    return envelope("<a " + " ".join(f'{name}=""' for name in short_names(n)) + "/>")


def declarations_on_siblings(n: int) -> str:
    """One declaration per element: the per-envelope bound (64) is the one crossed."""
    return envelope("".join(f'<a xmlns:p{i}="urn:p{i}"/>' for i in range(n)))


def declarations_on_one_element(n: int) -> str:
    """All on one element: the per-element attribute bound (32, declarations included) is crossed first."""
    return envelope("<a " + " ".join(f'xmlns:p{i}="urn:p{i}"' for i in range(n)) + "/>")


def padded_add(size: int) -> str:
    """An Add of exactly `size` bytes, whitespace before it in the Body."""
    bare = envelope(ADD)
    return envelope(" " * (size - len(bare)) + ADD)


def element_bomb() -> str:
    """Just under 1 MiB of `<a/>` with 62 namespace declarations in scope (31 on the Envelope beside
    xmlns:env, 31 on the Body): every limit holds, and every element name is looked up through them."""
    env_decls = "".join(f' xmlns:p{i}="urn:p{i}"' for i in range(MAX_ATTRIBUTES - 1))
    body_decls = "".join(f' xmlns:q{i}="urn:q{i}"' for i in range(MAX_ATTRIBUTES - 1))
    bare = envelope("", envelope_attrs=env_decls, body_attrs=body_decls)
    return envelope("<a/>" * ((SOAP_LIMIT - len(bare)) // 4), envelope_attrs=env_decls, body_attrs=body_decls)


# The flood's mix: small envelopes and the fault reason each must get.
FLOOD_MIX = [
    (billion_laughs(), "a document type declaration is not allowed"),
    (external_entity(), "a document type declaration is not allowed"),
    (undeclared_entity(), "is not one of the five predefined entities"),
    (nesting(1000, closed=True), f"elements nest deeper than {MAX_DEPTH}"),
    (many_attributes(1000), f"more than {MAX_ATTRIBUTES} attributes"),
    (declarations_on_siblings(100), f"more than {MAX_DECLARATIONS} namespace declarations"),
    (envelope('<?evil x?>' + ADD), "processing instructions are not allowed"),
]


# --- the client ----------------------------------------------------------------------------

def soap_connect(srv, version: str = "soap12", compression: str | None = None):
    return ws_connect(f"{srv.base}/soap", subprotocols=["soap"],
                      additional_headers={"soap-content-type": VERSIONS[version][1]},
                      open_timeout=10, close_timeout=2, max_size=None, compression=compression)


def read_answer(text) -> str:
    """An answer envelope -> "result N", "fault CODE: reason", or what else it is, cut short."""
    if not isinstance(text, str):
        return f"a binary message of {len(text)} bytes"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        return f"not XML ({e}): {text[:80]}"
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    body = root.find(f"{{{ns}}}Body")
    first = body[0] if body is not None and len(body) else None
    if first is None:
        return f"no Body element: {text[:80]}"
    if first.tag == f"{{{ENV12}}}Fault":
        code = first.findtext(f"{{{ENV12}}}Code/{{{ENV12}}}Value") or ""
        reason = first.findtext(f"{{{ENV12}}}Reason/{{{ENV12}}}Text") or ""
    elif first.tag == f"{{{ENV11}}}Fault":
        code, reason = first.findtext("faultcode") or "", first.findtext("faultstring") or ""
    elif first.tag == f"{{{CALC}}}AddResponse":
        return f"result {first.findtext(f'{{{CALC}}}result')}"
    else:
        return f"{first.tag}: {text[:80]}"
    return f"fault {code.rpartition(':')[2]}: {reason}"


def abuse_then_add(srv, message: str, version: str = "soap12") -> tuple[str, str, str]:
    """Sends `message` on a new /soap connection, reads the answer, then sends an Add on the same
    socket. -> (the answer's text, the answer read, the Add's answer read); "close CODE" for a close."""
    with soap_connect(srv, version) as ws:
        assert ws.subprotocol == "soap", ws.subprotocol
        try:
            ws.send(message)
            raw = ws.recv(timeout=ANSWER_TIMEOUT)
        except ConnectionClosed as e:
            code = f"close {e.rcvd.code if e.rcvd else None}"
            return code, code, "-"
        answer = read_answer(raw)
        try:
            ws.send(envelope(ADD, version))
            after = read_answer(ws.recv(timeout=ANSWER_TIMEOUT))
        except ConnectionClosed as e:
            after = f"close {e.rcvd.code if e.rcvd else None}"
        return raw, answer, after


def short(answer: str, n: int = 110) -> str:
    return answer if len(answer) <= n else answer[:n] + "..."


def assert_fault(answer: str, code: str, reason: str):
    assert answer.startswith(f"fault {code}: ") and reason in answer, \
        f"expected a {code} fault mentioning {reason!r}, got {answer!r}"


# --- cases ---------------------------------------------------------------------------------

ENTITY_CASES = {
    "billion_laughs": "a document type declaration is not allowed",
    "external_entity": "a document type declaration is not allowed",
    "undeclared_entity": "is not one of the five predefined entities",
}


@pytest.mark.parametrize("version", list(VERSIONS))
@pytest.mark.parametrize("shape", list(ENTITY_CASES))
def test_entity_abuse(stress, shape, version):
    """No DTD, so no entity is ever expanded or fetched: a Sender fault, the connection goes on."""
    srv = stress.start()
    fault_code, reason = VERSIONS[version][2], ENTITY_CASES[shape]
    canary = None
    if shape == "external_entity":
        # A socket the second external entity names: nothing may connect to it.
        canary = socket.socket()
        canary.bind(("127.0.0.1", 0))
        canary.listen(4)
        message = external_entity(version, canary_port=canary.getsockname()[1])
    else:
        message = {"billion_laughs": billion_laughs, "undeclared_entity": undeclared_entity}[shape](version)
    try:
        with stress.measure(f"{fault_code} fault '{reason}'; Add answered after", settle=0.3) as m:
            raw, answer, after = abuse_then_add(srv, message, version)
            fetched = False
            if canary is not None:
                fetched = bool(select.select([canary], [], [], 0.5)[0])
            m.observed = f"{short(answer)}; after: {after}" + ("; the canary URL was fetched" if fetched else "")
    finally:
        if canary is not None:
            canary.close()
    m.assert_healthy(peak_growth_mib=SMALL_PEAK, final_growth_mib=SMALL_FINAL)
    assert_fault(answer, fault_code, reason)
    assert "root:" not in raw, f"the answer holds /etc/passwd: {raw[:300]!r}"
    assert not fetched, "the server connected to the URL of an external entity"
    assert after == ADD_ANSWER, m.observed


# (depth, with its end tags, expected reason). 300,000 open tags are 900 KB, under the SOAP limit, so the
# parser sees them; 1,000,000 are 3 MB, past it, so they are refused by size before any parsing.
NESTINGS = [
    (10_000, True, f"elements nest deeper than {MAX_DEPTH}"),
    (300_000, False, f"elements nest deeper than {MAX_DEPTH}"),
    (1_000_000, False, f"exceeds the limit of {SOAP_LIMIT}"),
]


@pytest.mark.parametrize("depth, closed, reason", NESTINGS, ids=[f"{d}-deep" for d, _, _ in NESTINGS])
def test_deep_nesting(stress, depth, closed, reason):
    srv = stress.start()
    message = nesting(depth, closed)
    with stress.measure(f"{len(message) / MiB:.2f} MiB, {depth}-deep: Sender fault '{reason}'; Add after",
                        settle=0.3) as m:
        _raw, answer, after = abuse_then_add(srv, message)
        m.observed = f"{short(answer)}; after: {after}"
    m.assert_healthy(peak_growth_mib=SMALL_PEAK, final_growth_mib=SMALL_FINAL)
    assert_fault(answer, "Sender", reason)
    assert after == ADD_ANSWER, m.observed


ATTRIBUTE_FLOODS = {
    f"{ATTRIBUTES}_attributes": (lambda: many_attributes(ATTRIBUTES), f"more than {MAX_ATTRIBUTES} attributes"),
    f"{DECLARATIONS}_declarations_on_siblings": (lambda: declarations_on_siblings(DECLARATIONS),
                                                  f"more than {MAX_DECLARATIONS} namespace declarations"),
    f"{DECLARATIONS}_declarations_on_one_element": (lambda: declarations_on_one_element(DECLARATIONS),
                                                     f"more than {MAX_ATTRIBUTES} attributes"),
}


@pytest.mark.parametrize("shape", list(ATTRIBUTE_FLOODS))
def test_attribute_flood(stress, shape):
    srv = stress.start()
    build, reason = ATTRIBUTE_FLOODS[shape]
    message = build()
    assert len(message) < SOAP_LIMIT  # the parser must see it, not the size check
    with stress.measure(f"{len(message) / 1024:.0f} KiB: Sender fault '{reason}'; Add after", settle=0.3) as m:
        _raw, answer, after = abuse_then_add(srv, message)
        m.observed = f"{short(answer)}; after: {after}"
    m.assert_healthy(peak_growth_mib=SMALL_PEAK, final_growth_mib=SMALL_FINAL)
    assert_fault(answer, "Sender", reason)
    assert after == ADD_ANSWER, m.observed


def test_envelope_past_the_soap_limit(stress):
    """An Add of exactly 1 MiB is served; 1 MiB + 1 B and 15 MiB get a Sender fault about the size."""
    srv = stress.start()
    with stress.measure(f"1 MiB Add: result 5; 1 MiB + 1 B, {HUGE_ENVELOPE // MiB} MiB: Sender fault "
                        "'exceeds the limit'; Add after") as m:
        answers = []
        with soap_connect(srv) as ws:
            for message in (padded_add(SOAP_LIMIT), padded_add(SOAP_LIMIT + 1), padded_add(HUGE_ENVELOPE),
                            envelope(ADD)):
                ws.send(message)
                answers.append(read_answer(ws.recv(timeout=ANSWER_TIMEOUT)))
                m.rss()
        m.observed = "; ".join(short(a, 70) for a in answers)
    m.assert_healthy(peak_growth_mib=HUGE_PEAK, final_growth_mib=HUGE_FINAL)
    assert answers[0] == ADD_ANSWER, m.observed
    assert_fault(answers[1], "Sender", f"an envelope of {SOAP_LIMIT + 1} bytes exceeds the limit of {SOAP_LIMIT}")
    assert_fault(answers[2], "Sender", f"an envelope of {HUGE_ENVELOPE} bytes exceeds the limit of {SOAP_LIMIT}")
    assert answers[3] == ADD_ANSWER, m.observed


def test_hostile_envelope_flood(stress):
    """2,000 hostile envelopes sent back to back before any answer is read: each gets its fault,
    in order, memory bounded, and the connection then answers an Add."""
    srv = stress.start()
    messages = [FLOOD_MIX[i % len(FLOOD_MIX)] for i in range(FLOOD)]
    data = b"".join(frame(OP_TEXT, text.encode()) for text, _ in messages) + frame(OP_TEXT, envelope(ADD).encode())
    with stress.measure(f"{FLOOD} hostile envelopes ({len(data) / MiB:.1f} MiB) unread: {FLOOD} faults in order, "
                        "then Add answered; RSS bounded") as m:
        conn = RawConn(srv.port, path="/soap", extra_headers=(
            f"Sec-WebSocket-Protocol: soap\r\nsoap-content-type: {VERSIONS['soap12'][1]}\r\n"))
        try:
            assert conn.status == 101 and conn.headers.get("sec-websocket-protocol") == "soap", conn.headers
            sent = threading.Event()
            send_error: list[str] = []

            def send_all():
                try:
                    conn.send_raw(data)
                except OSError as e:
                    send_error.append(f"{type(e).__name__}: {e}")
                sent.set()

            t0 = time.monotonic()
            threading.Thread(target=send_all, daemon=True).start()
            # Not reading: either all of it goes out, or the server stops reading once its answers back up.
            all_out = sent.wait(FLOOD_SEND_TIMEOUT)
            send_time = time.monotonic() - t0
            m.rss()
            answers, wrong, end = [], [], None
            deadline = time.monotonic() + 30
            while len(answers) < FLOOD + 1 and time.monotonic() < deadline:
                try:
                    op, payload = conn.client.recv_message()
                except (EOFError, OSError) as e:
                    end = f"{type(e).__name__}"
                    break
                if op == OP_CLOSE:
                    end = f"close {close_code(payload)}"
                    break
                answers.append(read_answer(payload.decode()))
            sent.wait(5)
            for i, answer in enumerate(answers[:FLOOD]):
                if not (answer.startswith("fault Sender: ") and messages[i][1] in answer):
                    wrong.append(f"#{i}: {short(answer, 80)}")
            after = answers[FLOOD] if len(answers) > FLOOD else "-"
            m.observed = (f"{'all sent before reading' if all_out else 'send blocked (server stopped reading)'} "
                          f"in {send_time:.2f} s; {min(len(answers), FLOOD)} answers, {len(wrong)} wrong; after: {after}"
                          + (f"; ended: {end}" if end else "") + (f"; send: {send_error[0]}" if send_error else ""))
        finally:
            conn.close()
    m.assert_healthy(peak_growth_mib=FLOOD_PEAK, final_growth_mib=FLOOD_FINAL)
    assert not send_error, m.observed
    assert len(answers) >= FLOOD and not wrong, f"{m.observed}: {wrong[:5]}"
    assert after == ADD_ANSWER, m.observed


def test_binary_message_closes_1003(stress):
    srv = stress.start()
    with stress.measure("a binary envelope: close 1003", settle=0.3) as m:
        _raw, answer, _after = abuse_then_add(srv, envelope(ADD).encode())
        m.observed = answer
    m.assert_healthy(peak_growth_mib=SMALL_PEAK, final_growth_mib=SMALL_FINAL)
    assert answer == "close 1003", m.observed


@pytest.mark.parametrize("compression", [None, "deflate"], ids=["plain", "deflated"])
def test_element_bomb_under_the_size_limit(stress, compression):
    """1 MiB envelopes within every other limit (250,000 empty elements, 62 namespace declarations in
    scope) would cost the server a tree of about 35x their size and, on a debug build, about 1.5 s of
    CPU each on the connection's event loop; the element limit refuses them at 50,000 elements, and
    the reader yields to the loop after each large message. Sent back to back they must not stall the other connections of
    that loop past PROBE_TIMEOUT: ELEMENT_WATCHERS echo connections, one per loop, measure it.
    Deflated, each envelope is about 1 KB on the wire, so all of them arrive in one read."""
    srv = stress.start()
    message = element_bomb()
    assert len(message) <= SOAP_LIMIT
    with stress.measure(f"{ELEMENT_BOMB_ENVELOPES} x {len(message) / MiB:.2f} MiB of empty elements back to back"
                        f"{', deflated' if compression else ''}: faults, RSS bounded, other clients' echo under "
                        f"{PROBE_TIMEOUT:.0f} s") as m:
        stop = threading.Event()
        stalls = [0.0] * ELEMENT_WATCHERS
        errors: list[str] = []

        def watch(k: int):
            try:
                with ws_connect(f"{srv.base}/echo", open_timeout=10, close_timeout=1) as ws:
                    while not stop.is_set():
                        t0 = time.monotonic()
                        ws.send("watch")
                        ws.recv(timeout=ANSWER_TIMEOUT)
                        stalls[k] = max(stalls[k], time.monotonic() - t0)
                        stop.wait(0.05)
            except Exception as e:  # noqa: BLE001 - reported, whatever it is
                errors.append(f"watcher {k}: {type(e).__name__}: {e}"[:160])

        watchers = [threading.Thread(target=watch, args=(k,), daemon=True) for k in range(ELEMENT_WATCHERS)]
        for w in watchers:
            w.start()
        time.sleep(0.3)
        answers = []
        t0 = time.monotonic()
        with soap_connect(srv, compression=compression) as ws:
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert ("permessage-deflate" in extensions) == bool(compression), extensions
            for _ in range(ELEMENT_BOMB_ENVELOPES):
                ws.send(message)
            for _ in range(ELEMENT_BOMB_ENVELOPES):
                answers.append(read_answer(ws.recv(timeout=ANSWER_TIMEOUT)))
            elapsed = time.monotonic() - t0
            ws.send(envelope(ADD))
            after = read_answer(ws.recv(timeout=ANSWER_TIMEOUT))
        time.sleep(0.3)
        stop.set()
        for w in watchers:
            w.join(timeout=ANSWER_TIMEOUT + 2)
        worst = max(stalls)
        m.observed = (f"{len(answers)} answers in {elapsed:.1f} s: {sorted(set(short(a, 60) for a in answers))}; "
                      f"after: {after}; worst echo stall {worst:.2f} s "
                      f"({', '.join(f'{s:.2f}' for s in stalls)})" + (f"; {errors[0]}" if errors else ""))
    m.assert_alive()
    m.assert_rss(peak_growth_mib=ELEMENT_BOMB_PEAK, final_growth_mib=ELEMENT_BOMB_FINAL)
    # SOAPConfiguration.maxElements (50,000) stops the parse a fifth of the way in.
    assert all(a.startswith("fault Sender:") and f"more than {MAX_ELEMENTS} elements" in a for a in answers), m.observed
    assert after == ADD_ANSWER, m.observed
    assert not errors, m.observed
    assert worst <= PROBE_TIMEOUT, (f"an echo on another connection waited {worst:.2f} s while the SOAP "
                                    f"connection parsed (bound {PROBE_TIMEOUT} s): {m.observed}")
    m.assert_served()
