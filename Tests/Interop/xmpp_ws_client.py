"""A small XMPP client over WebSocket (RFC 7395), written from the RFCs over Python
`websockets`, for the interop tests: against Prosody (prosody_server.py) and as the
independent Python client against our own server. A helper, not a test file.

It does: the `xmpp` subprotocol, `<open/>`/`<close/>` framing (one element per text
message), SASL PLAIN and SCRAM-SHA-1/-256 (RFC 5802, RFC 7677; no channel binding,
ASCII credentials: no SASLprep), the stream restart after SASL (RFC 7395 §3.7),
resource binding (RFC 6120 §7), the optional session iq, iq with ids and timeouts,
message, presence, roster (RFC 6121) and XEP-0199 ping. It checks what it reads:
a text message holding exactly one element, stanzas qualified by `jabber:client`,
no DOCTYPE, comment or processing instruction (nor an XML declaration: RFC 7395 peers
send bare elements); a breach raises ProtocolViolation. Every wait is bounded.

    async with await XmppClient.connect(url, "alice", "wonderland") as alice:
        await alice.send_message("bob@localhost", "hi")
        await alice.ping()
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import re
import secrets
import xml.etree.ElementTree as ET
from typing import Iterable

from websockets.asyncio.client import connect as ws_connect

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_STREAMS = "http://etherx.jabber.org/streams"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_ROSTER = "jabber:iq:roster"
NS_PING = "urn:xmpp:ping"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"

TIMEOUT = 10.0


class XmppError(Exception):
    """Base of what this client raises."""


class ProtocolViolation(XmppError, AssertionError):
    """The peer sent something RFC 7395/6120 does not allow."""


class StreamError(XmppError):
    def __init__(self, condition: str, text: str | None = None):
        super().__init__(f"stream error {condition}" + (f": {text}" if text else ""))
        self.condition, self.text = condition, text


class SaslFailure(XmppError):
    def __init__(self, condition: str):
        super().__init__(f"SASL failure: {condition}")
        self.condition = condition


class StanzaError(XmppError):
    def __init__(self, stanza: ET.Element):
        err = stanza.find(f"{{{NS_CLIENT}}}error")
        self.stanza = stanza
        self.type = err.get("type") if err is not None else None
        self.condition = next((local(c.tag) for c in (err if err is not None else [])
                               if ns(c.tag) == NS_STANZAS and local(c.tag) != "text"), None)
        super().__init__(f"stanza error {self.type}/{self.condition}")


def ns(tag: str) -> str | None:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else None


def local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def E(tag: str, attrs: dict | None = None, *children: ET.Element, xmlns: str | None = None,
      text: str | None = None) -> ET.Element:
    """An element to send; `xmlns` becomes a default namespace declaration, not a prefix."""
    el = ET.Element(tag, {k: v for k, v in (attrs or {}).items() if v is not None})
    if xmlns:
        el.set("xmlns", xmlns)
    el.extend(children)
    el.text = text
    return el


def serialize(el: ET.Element | str) -> str:
    return el if isinstance(el, str) else ET.tostring(el, encoding="unicode")


def parse_message(data) -> ET.Element:
    """One WebSocket message -> its one element (RFC 7395 §3.3.3)."""
    if not isinstance(data, str):
        raise ProtocolViolation("a binary WebSocket message (RFC 7395 §3.2: text only)")
    if re.search(r"<!|<\?", data):
        raise ProtocolViolation(f"DTD, comment, CDATA or processing instruction in {data[:200]!r} (RFC 6120 §11)")
    try:
        return ET.fromstring(data)  # raises on a second root element ("junk after document element")
    except ET.ParseError as e:
        raise ProtocolViolation(f"not one well-formed element ({e}): {data[:200]!r}") from None


# -- SCRAM (RFC 5802; SHA-256 per RFC 7677) ---------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _saslname(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _attributes(message: str) -> dict[str, str]:
    out = {}
    for part in message.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ProtocolViolation(f"malformed SCRAM attribute {part!r} in {message!r}")
        out.setdefault(part[0], part[2:])
    return out


class ScramClient:
    """One SCRAM exchange: first() -> send, final(server-first) -> send, verify(server-final)."""

    HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}
    MAX_ITERATIONS = 1_000_000  # a hostile server cannot make us spin forever

    def __init__(self, mechanism: str, username: str, password: str, nonce: str | None = None):
        self.hash = self.HASHES[mechanism]
        self.password = password.encode("utf-8")
        self.nonce = nonce or _b64(secrets.token_bytes(18))
        self.gs2_header = "n,,"  # no channel binding, no authzid
        self.first_bare = f"n={_saslname(username)},r={self.nonce}"
        self.server_signature: bytes | None = None

    def _hmac(self, key: bytes, msg: bytes) -> bytes:
        return hmac.new(key, msg, self.hash).digest()

    def first(self) -> bytes:
        return (self.gs2_header + self.first_bare).encode()

    def final(self, server_first: bytes) -> bytes:
        text = server_first.decode("utf-8")
        attrs = _attributes(text)
        if "m" in attrs:
            raise ProtocolViolation("SCRAM m= extension: must fail (RFC 5802 §5.1)")
        nonce, salt, iterations = attrs.get("r", ""), attrs.get("s"), attrs.get("i", "")
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ProtocolViolation(f"server nonce does not extend ours: {text!r}")
        if salt is None or not iterations.isdigit() or not 1 <= int(iterations) <= self.MAX_ITERATIONS:
            raise ProtocolViolation(f"bad salt or iteration count: {text!r}")
        salted = hashlib.pbkdf2_hmac(self.hash, self.password, base64.b64decode(salt, validate=True), int(iterations))
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash, client_key).digest()
        without_proof = f"c={_b64(self.gs2_header.encode())},r={nonce}"
        auth_message = f"{self.first_bare},{text},{without_proof}".encode()
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = self._hmac(self._hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={_b64(proof)}".encode()

    def verify(self, server_final: bytes) -> None:
        attrs = _attributes(server_final.decode("utf-8"))
        if "e" in attrs:
            raise SaslFailure(f"scram e={attrs['e']}")
        if self.server_signature is None or not hmac.compare_digest(
                base64.b64decode(attrs.get("v", "")), self.server_signature):
            raise ProtocolViolation("the server's SCRAM signature does not verify: not the server that has our keys")


# -- the client -----------------------------------------------------------------

class XmppClient:
    """An authenticated, bound XMPP session over one WebSocket connection."""

    def __init__(self, ws, domain: str):
        self.ws, self.domain = ws, domain
        self.jid: str | None = None  # full JID after bind
        self.stream_id: str | None = None
        self.mechanisms: list[str] = []  # what the server offered before auth
        self.mechanism: str | None = None
        self.features: ET.Element | None = None  # after the restart
        # Received and not yet taken by next_message/next_presence, oldest first.
        self.messages: list[ET.Element] = []
        self.presences: list[ET.Element] = []
        self._arrived = asyncio.Event()
        self.stream_error: StreamError | None = None
        self.violation: Exception | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future] = {}
        self._peer_closed = asyncio.Event()
        self._closing = False  # we sent <close/>: the server's <close/> answers it
        self._reader: asyncio.Task | None = None

    # -- setting up ---------------------------------------------------------

    @classmethod
    async def connect(cls, url: str, username: str, password: str, *, domain: str = "localhost",
                      resource: str | None = None, mechanism: str | None = None,
                      timeout: float = TIMEOUT, bind: bool = True) -> "XmppClient":
        """Opens, authenticates (the best offered of SCRAM-SHA-256, SCRAM-SHA-1, PLAIN unless
        `mechanism` names one), restarts and binds. Raises on any failure, within `timeout` per step."""
        ws = await ws_connect(url, subprotocols=["xmpp"], open_timeout=timeout, close_timeout=5,
                              max_size=1 << 20, compression=None)
        client = cls(ws, domain)
        try:
            if ws.subprotocol != "xmpp":
                raise ProtocolViolation(f"server chose subprotocol {ws.subprotocol!r}, not xmpp (RFC 7395 §3.1)")
            features = await client.open_stream(timeout)
            await client.authenticate(features, username, password, mechanism, timeout)
            client.features = await client.open_stream(timeout)
            if bind:
                await client.bind(resource, timeout)
            client._reader = asyncio.create_task(client._read())
            return client
        except BaseException:
            await ws.close()
            raise

    async def recv_element(self, timeout: float = TIMEOUT) -> ET.Element:
        """The next element (before the reader runs, or for raw tests); stream errors raise."""
        try:
            data = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise XmppError(f"nothing from the server within {timeout}s") from None
        el = parse_message(data)
        if el.tag == f"{{{NS_STREAMS}}}error":
            raise self._stream_error(el)
        return el

    async def send(self, el: ET.Element | str) -> None:
        await self.ws.send(serialize(el))

    async def open_stream(self, timeout: float = TIMEOUT) -> ET.Element:
        """Sends <open/>, checks the server's <open/>, returns <stream:features>."""
        await self.send(E("open", {"to": self.domain, "version": "1.0", "xml:lang": "en"}, xmlns=NS_FRAMING))
        opened = await self.recv_element(timeout)
        if opened.tag != f"{{{NS_FRAMING}}}open":
            raise ProtocolViolation(f"expected <open/>, got {opened.tag} (RFC 7395 §3.4)")
        if opened.get("version") != "1.0" or not opened.get("id") or opened.get("from") != self.domain:
            raise ProtocolViolation(f"bad <open/> attributes {opened.attrib} (RFC 6120 §4.7)")
        self.stream_id = opened.get("id")
        features = await self.recv_element(timeout)
        if features.tag != f"{{{NS_STREAMS}}}features":
            raise ProtocolViolation(f"expected <stream:features>, got {features.tag} (RFC 6120 §4.3.2)")
        return features

    async def authenticate(self, features: ET.Element, username: str, password: str,
                           mechanism: str | None, timeout: float = TIMEOUT) -> None:
        mechs = features.find(f"{{{NS_SASL}}}mechanisms")
        self.mechanisms = [m.text or "" for m in (mechs if mechs is not None else [])]
        if mechanism is None:
            mechanism = next((m for m in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN") if m in self.mechanisms), None)
        if mechanism not in self.mechanisms:
            raise XmppError(f"mechanism {mechanism} not offered; offered: {self.mechanisms}")
        self.mechanism = mechanism
        if mechanism == "PLAIN":
            scram, initial = None, f"\0{username}\0{password}".encode()
        else:
            scram = ScramClient(mechanism, username, password)
            initial = scram.first()
        await self.send(E("auth", {"mechanism": mechanism}, xmlns=NS_SASL, text=_b64(initial)))
        answered = False
        while True:
            el = await self.recv_element(timeout)
            data = base64.b64decode(el.text or "", validate=True) if (el.text or "").strip("=") else b""
            if el.tag == f"{{{NS_SASL}}}challenge" and scram is not None and not answered:
                answered = True
                await self.send(E("response", xmlns=NS_SASL, text=_b64(scram.final(data))))
            elif el.tag == f"{{{NS_SASL}}}challenge" and scram is not None:
                scram.verify(data)  # server-final as a challenge: answer empty (RFC 6120 §6.4.6)
                await self.send(E("response", xmlns=NS_SASL))
                scram = None
            elif el.tag == f"{{{NS_SASL}}}success":
                if scram is not None:
                    if not answered:
                        raise ProtocolViolation("SCRAM success before the exchange")
                    scram.verify(data)
                return
            elif el.tag == f"{{{NS_SASL}}}failure":
                raise SaslFailure(next((local(c.tag) for c in el if local(c.tag) != "text"), "unknown"))
            else:
                raise ProtocolViolation(f"unexpected {el.tag} during SASL (RFC 6120 §6.4)")

    async def bind(self, resource: str | None, timeout: float = TIMEOUT) -> str:
        if self.features is None or self.features.find(f"{{{NS_BIND}}}bind") is None:
            raise ProtocolViolation("no bind feature after the restart (RFC 6120 §7.2)")
        child = E("bind", None, *([E("resource", text=resource)] if resource else []), xmlns=NS_BIND)
        result = await self._iq_before_reader("set", child, timeout)
        jid = result.findtext(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
        if not jid or "/" not in jid:
            raise ProtocolViolation(f"bind result without a full JID: {ET.tostring(result)!r}")
        self.jid = jid
        session = self.features.find(f"{{{NS_SESSION}}}session")
        if session is not None and session.find(f"{{{NS_SESSION}}}optional") is None:
            await self._iq_before_reader("set", E("session", xmlns=NS_SESSION), timeout)  # RFC 3921 legacy
        return jid

    async def _iq_before_reader(self, type_: str, child: ET.Element, timeout: float) -> ET.Element:
        id_ = f"setup{next(self._ids)}"
        await self.send(E("iq", {"type": type_, "id": id_}, child, xmlns=NS_CLIENT))
        el = await self.recv_element(timeout)
        if el.tag != f"{{{NS_CLIENT}}}iq" or el.get("id") != id_:
            raise ProtocolViolation(f"expected the answer to iq {id_}, got {ET.tostring(el)!r}")
        if el.get("type") == "error":
            raise StanzaError(el)
        return el

    # -- the running session ------------------------------------------------

    async def iq(self, type_: str, child: ET.Element | None = None, to: str | None = None,
                 timeout: float = TIMEOUT) -> ET.Element:
        """Sends an iq get/set; returns the result stanza or raises StanzaError / XmppError."""
        self._check()
        id_ = f"iq{next(self._ids)}"
        fut = asyncio.get_running_loop().create_future()
        self._pending[id_] = fut
        try:
            await self.send(E("iq", {"type": type_, "id": id_, "to": to}, *([child] if child is not None else []),
                              xmlns=NS_CLIENT))
            result = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise XmppError(f"no answer to iq {id_} within {timeout}s") from None
        finally:
            self._pending.pop(id_, None)
        if result.get("type") == "error":
            raise StanzaError(result)
        return result

    async def ping(self, to: str | None = None, timeout: float = TIMEOUT) -> None:
        """XEP-0199: to the server by default; an empty result is the pong."""
        await self.iq("get", E("ping", xmlns=NS_PING), to=to or self.domain, timeout=timeout)

    async def disco_features(self, to: str | None = None) -> set[str]:
        result = await self.iq("get", E("query", xmlns=NS_DISCO_INFO), to=to or self.domain)
        return {f.get("var") for f in result.iter(f"{{{NS_DISCO_INFO}}}feature")}

    async def roster(self) -> dict[str, str]:
        """bare JID -> subscription (RFC 6121 §2.1)."""
        result = await self.iq("get", E("query", xmlns=NS_ROSTER))
        return {i.get("jid"): i.get("subscription", "none") for i in result.iter(f"{{{NS_ROSTER}}}item")}

    async def send_message(self, to: str, body: str, type_: str = "chat", id_: str | None = None) -> str:
        id_ = id_ or f"m{next(self._ids)}"
        await self.send(E("message", {"to": to, "type": type_, "id": id_}, E("body", text=body), xmlns=NS_CLIENT))
        return id_

    async def send_presence(self, to: str | None = None, type_: str | None = None,
                            children: Iterable[ET.Element] = ()) -> None:
        """No arguments: initial/available presence (RFC 6121 §4.2). type_ subscribe/subscribed/...: §3."""
        await self.send(E("presence", {"to": to, "type": type_}, *children, xmlns=NS_CLIENT))

    async def next_message(self, timeout: float = TIMEOUT, match=None) -> ET.Element:
        """Takes the oldest received message that `match`es (default: one with a <body>, so chat
        states are left alone); waits for one within `timeout`. Others stay for later calls."""
        return await self._next(self.messages, timeout,
                                match or (lambda m: m.find(f"{{{NS_CLIENT}}}body") is not None))

    async def next_presence(self, timeout: float = TIMEOUT, match=lambda p: True) -> ET.Element:
        return await self._next(self.presences, timeout, match)

    async def _next(self, inbox: list, timeout: float, match) -> ET.Element:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._check()
            for i, el in enumerate(inbox):
                if match(el):
                    return inbox.pop(i)
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                self._check()
                raise XmppError(f"no matching stanza within {timeout}s") from None

    def _check(self) -> None:
        if self.violation is not None:
            raise self.violation
        if self.stream_error is not None:
            raise self.stream_error

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                el = parse_message(data)
                if el.tag == f"{{{NS_FRAMING}}}close":
                    if not self._closing:
                        await self.send(E("close", xmlns=NS_FRAMING))  # answer the server's close (§3.6)
                    return
                if el.tag == f"{{{NS_STREAMS}}}error":
                    self.stream_error = self._stream_error(el)
                    self._fail_pending(self.stream_error)
                    continue  # a <close/> follows (RFC 7395 §3.6)
                if ns(el.tag) != NS_CLIENT:
                    raise ProtocolViolation(f"a stanza not in jabber:client: {el.tag} (RFC 7395 §3.3.3)")
                kind = local(el.tag)
                if kind == "iq":
                    await self._on_iq(el)
                elif kind in ("message", "presence"):
                    (self.messages if kind == "message" else self.presences).append(el)
                    self._arrived.set()
                else:
                    raise ProtocolViolation(f"unknown top-level element {el.tag}")
        except ProtocolViolation as e:
            self.violation = e
            self._fail_pending(e)
        except Exception as e:  # the connection went away: callers learn it instead of timing out
            self._fail_pending(XmppError(f"connection lost: {e!r}"))
        finally:
            self._peer_closed.set()
            self._arrived.set()  # waiters re-check and see why

    async def _on_iq(self, el: ET.Element) -> None:
        type_, id_ = el.get("type"), el.get("id")
        if type_ in ("result", "error"):
            fut = self._pending.get(id_)
            if fut is not None and not fut.done():
                fut.set_result(el)
            return
        if type_ not in ("get", "set") or not id_:
            raise ProtocolViolation(f"invalid iq (RFC 6120 §8.2.3): {ET.tostring(el)!r}")
        reply = {"type": "result", "id": id_, "to": el.get("from")}
        if len(el) != 1:  # a get/set carries exactly one payload (RFC 6120 §8.2.3)
            error = E("error", {"type": "modify"}, E("bad-request", xmlns=NS_STANZAS))
            await self.send(E("iq", {**reply, "type": "error"}, error, xmlns=NS_CLIENT))
        elif el[0].tag == f"{{{NS_PING}}}ping" and type_ == "get":
            await self.send(E("iq", reply, xmlns=NS_CLIENT))
        elif el[0].tag == f"{{{NS_ROSTER}}}query" and type_ == "set":  # roster push (RFC 6121 §2.1.6)
            await self.send(E("iq", reply, xmlns=NS_CLIENT))
        else:
            error = E("error", {"type": "cancel"}, E("service-unavailable", xmlns=NS_STANZAS))
            await self.send(E("iq", {**reply, "type": "error"}, error, xmlns=NS_CLIENT))

    def _fail_pending(self, exc: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)

    @staticmethod
    def _stream_error(el: ET.Element) -> StreamError:
        cond = next((local(c.tag) for c in el if ns(c.tag) == NS_STREAM_ERRORS and local(c.tag) != "text"), None)
        if cond is None:
            raise ProtocolViolation(f"stream error without a condition: {ET.tostring(el)!r}")
        return StreamError(cond, el.findtext(f"{{{NS_STREAM_ERRORS}}}text"))

    # -- closing ------------------------------------------------------------

    async def close(self, timeout: float = 5.0) -> None:
        """<close/>, the server's <close/> (bounded), then the WebSocket close (RFC 7395 §3.6).
        Raises what the reader found wrong, if anything."""
        try:
            if not self._peer_closed.is_set():
                self._closing = True
                try:
                    await self.send(E("close", xmlns=NS_FRAMING))
                    await asyncio.wait_for(self._peer_closed.wait(), timeout)
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
        finally:
            if self._reader is not None:
                self._reader.cancel()
                try:
                    await self._reader
                except (asyncio.CancelledError, Exception):  # noqa: BLE001
                    pass
            await self.ws.close()
        if self.violation is not None:
            raise self.violation

    async def __aenter__(self) -> "XmppClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


# -- a self-check: two accounts, every feature above ------------------------------

async def exercise(url: str, alice: tuple[str, str], bob: tuple[str, str], *, domain: str = "localhost",
                   mechanism: str | None = None, log=print) -> None:
    """alice (SCRAM or `mechanism`) and bob (PLAIN if offered): ping, disco, mutual subscription,
    presence both ways, messages to a full and to a bare JID, a client-to-client ping. Raises on failure."""
    a = await XmppClient.connect(url, *alice, domain=domain, resource="one", mechanism=mechanism)
    try:
        log(f"alice bound {a.jid} with {a.mechanism}; offered {a.mechanisms}")
        bob_mech = "PLAIN" if "PLAIN" in a.mechanisms else None
        b = await XmppClient.connect(url, *bob, domain=domain, mechanism=bob_mech)
        try:
            log(f"bob bound {b.jid} with {b.mechanism} (server-chosen resource)")
            await a.ping()
            assert NS_PING in await a.disco_features(), "disco#info lacks urn:xmpp:ping"
            log("ping and disco#info answered")
            abare, bbare = a.jid.split("/")[0], b.jid.split("/")[0]
            # Interested (roster fetched) and available first: a server pushes roster changes and
            # "subscribed" to interested resources only, and subscription requests to available
            # ones (RFC 6121 §2.1.6, §3.1.3, §3.1.6).
            for x in (a, b):
                assert await x.roster() == {}, "exercise() needs accounts with empty rosters (a fresh server)"
                await x.send_presence()
            for x, y, ybare, xbare in ((a, b, bbare, abare), (b, a, abare, bbare)):
                await x.send_presence(to=ybare, type_="subscribe")
                await y.next_presence(match=lambda p: p.get("type") == "subscribe" and p.get("from") == xbare)
                await y.send_presence(to=xbare, type_="subscribed")
                await x.next_presence(match=lambda p: p.get("type") == "subscribed" and p.get("from") == ybare)
            assert (await a.roster()).get(bbare) == "both" and (await b.roster()).get(abare) == "both"
            log("mutual subscription: both rosters say 'both'")
            # After approval the contact's current presence reaches the new subscriber (RFC 6121 §3.1.5).
            available = lambda jid: lambda p: p.get("type") is None and p.get("from") == jid  # noqa: E731
            await b.next_presence(match=available(a.jid))
            await a.next_presence(match=available(b.jid))
            log("available presence seen both ways")
            await a.send_message(b.jid, "to your full JID")
            got = await b.next_message()
            assert got.findtext(f"{{{NS_CLIENT}}}body") == "to your full JID" and got.get("from") == a.jid
            await b.send_message(abare, "to your bare JID")
            got = await a.next_message()
            assert got.findtext(f"{{{NS_CLIENT}}}body") == "to your bare JID" and got.get("from") == b.jid
            log("messages routed: full JID and bare JID")
            await a.ping(to=b.jid)
            log("client-to-client ping answered")
        finally:
            await b.close()
    finally:
        await a.close()
    log("both streams closed with <close/>")


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="XMPP over WebSocket self-check with two accounts")
    parser.add_argument("url", nargs="?", help="ws://... (default: start a private Prosody)")
    parser.add_argument("--alice", default="alice:wonderland")
    parser.add_argument("--bob", default="bob:builder")
    parser.add_argument("--domain", default="localhost")
    parser.add_argument("--mechanism", help="for alice (default: the best offered)")
    parser.add_argument("--password-hash", default="SHA-1", help="the private Prosody's SHA-1 or SHA-256")
    args = parser.parse_args()
    creds = [tuple(x.split(":", 1)) for x in (args.alice, args.bob)]

    async def main(url):
        await asyncio.wait_for(exercise(url, *creds, domain=args.domain, mechanism=args.mechanism), 60)

    if args.url:
        asyncio.run(main(args.url))
    else:
        from prosody_server import ProsodyServer
        with ProsodyServer(users=dict(creds), domain=args.domain, password_hash=args.password_hash) as prosody:
            print(f"prosody at {prosody.url}")
            try:
                asyncio.run(main(prosody.url))
            except BaseException:
                print(prosody.log_tail(30), file=sys.stderr)
                raise
    print("OK")
