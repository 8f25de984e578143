#!/usr/bin/env python3
"""An independent SOAP-over-WebSocket ([MS-SWSB]) peer for the interop tests:
websockets' asyncio server + lxml, no SOAP library.

    python soap_peer.py --port P [--host 127.0.0.1]

prints `listening on 127.0.0.1:P` on stdout when ready (P is the real port when
--port 0), then one JSON object per line for what it does, in the order it does
it: {"event": "connect", ...}, {"event": "request", ...}, {"event": "answer",
...} (after a response was sent), {"event": "fault", ...} (after a fault was
sent), {"event": "push", ...} (after a one-way message was sent),
{"event": "disconnect", ...}. Tests read the order of answers from these lines.

The contract (urn:example:calc, document/literal wrapped, xsd:long fields):
Add/Subtract/Multiply/Divide{a,b} -> XResponse{result}; Divide truncates;
division by zero -> Sender (1.1: Client) fault "division by zero", subcode
calc:DivisionByZero; Int64 overflow -> Sender/Client fault "integer overflow",
subcode calc:Overflow. Echo{text, delayMs} -> EchoResponse{text} after delayMs.
Subscribe{count, intervalMs} -> SubscribeResponse{accepted=count}, then count
one-way Tick{n} messages (wsa:Action urn:example:calc/Tick), one every
intervalMs. Messages are handled concurrently: answers go out in completion
order, each with wsa:RelatesTo = the request's wsa:MessageID when it had one.

Endpoint ws://HOST:P/soap, subprotocol `soap` required. The handshake header
soap-content-type picks the SOAP version of the connection:
application/soap+xml -> 1.2, text/xml -> 1.1, absent -> 1.2, other -> 415.
GET /soap?wsdl (plain HTTP) returns soap_peer_calc.wsdl with its placeholder
address replaced by this peer's.

SOAP processing: a DOCTYPE (or malformed XML) -> Sender/Client fault; an
envelope of the other SOAP version or an unknown namespace -> VersionMismatch
(SOAP 1.2 Appendix A: to a SOAP 1.1 envelope the answer is a SOAP 1.1 fault with
an env:Upgrade header); a header block with mustUnderstand true, targeted at
this node and not understood (only WS-Addressing 1.0 headers are) ->
MustUnderstand fault (1.2: one env:NotUnderstood header block per such block);
duplicated WS-Addressing headers -> wsa:InvalidAddressingHeader; a wsa:Action
other than urn:example:calc/Op -> wsa:ActionNotSupported.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

CALC = "urn:example:calc"
WSA = "http://www.w3.org/2005/08/addressing"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
WSA_FAULT_ACTION = WSA + "/soap/fault"
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
WSDL_FILE = Path(__file__).with_name("soap_peer_calc.wsdl")
WSDL_PLACEHOLDER = "ws://127.0.0.1:0/soap"

MAX_DELAY_MS = 60_000
MAX_TICKS = 10_000

# Header blocks this node understands (WS-Addressing 1.0 message addressing properties).
UNDERSTOOD = {etree.QName(WSA, n) for n in ("To", "From", "ReplyTo", "FaultTo", "Action", "MessageID", "RelatesTo")}
ULTIMATE_ROLES_12 = {None, ENV12 + "/role/next", ENV12 + "/role/ultimateReceiver"}
ULTIMATE_ACTORS_11 = {None, "http://schemas.xmlsoap.org/soap/actor/next"}


def log(event: str, **fields):
    print(json.dumps({"event": event, **fields}, sort_keys=False), flush=True)


# --- SOAP versions -------------------------------------------------------------------

class Version:
    def __init__(self, name, env, content_type):
        self.name = name
        self.env = env
        self.content_type = content_type

    def code_name(self, code: str) -> str:
        """SOAP 1.2 fault code local name -> this version's."""
        if self is V11:
            return {"Sender": "Client", "Receiver": "Server"}.get(code, code)
        return code


V12 = Version("1.2", ENV12, "application/soap+xml")
V11 = Version("1.1", ENV11, "text/xml")
BY_ENV = {ENV12: V12, ENV11: V11}


def version_from_header(value: str | None) -> Version | None:
    """soap-content-type handshake header -> Version; None when unacceptable."""
    if value is None:
        return V12
    parts = [p.strip() for p in value.split(";")]
    media = parts[0].lower()
    for param in parts[1:]:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return None
    return {"application/soap+xml": V12, "text/xml": V11}.get(media)


class SoapFault(Exception):
    """code: a SOAP 1.2 code local name (Sender, Receiver, MustUnderstand,
    VersionMismatch); subcode: (namespace, local) or None."""

    def __init__(self, code, reason, subcode=None, not_understood=(), upgrade=False, envelope=None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.not_understood = list(not_understood)  # [(namespace, local)]
        self.upgrade = upgrade
        self.envelope = envelope  # answer in this version instead of the connection's


# --- building messages -----------------------------------------------------------------

def _envelope(version: Version, wsa_headers: list[tuple[str, str]], extra_headers=()):
    env = etree.Element(f"{{{version.env}}}Envelope", nsmap={"env": version.env, "wsa": WSA})
    header = etree.SubElement(env, f"{{{version.env}}}Header")
    for block in extra_headers:
        header.append(block)
    for local, text in wsa_headers:
        etree.SubElement(header, f"{{{WSA}}}{local}").text = text
    if len(header) == 0:
        env.remove(header)
    body = etree.SubElement(env, f"{{{version.env}}}Body")
    return env, body


def _addressing(action: str, relates_to: str | None):
    headers = [("Action", action), ("MessageID", f"urn:uuid:{uuid.uuid4()}")]
    if relates_to is not None:
        headers.append(("RelatesTo", relates_to))
    return headers


def build_response(version: Version, operation: str, fields: dict, relates_to):
    env, body = _envelope(version, _addressing(f"{CALC}/{operation}Response", relates_to))
    wrapper = etree.SubElement(body, f"{{{CALC}}}{operation}Response", nsmap={None: CALC})
    for name, value in fields.items():
        etree.SubElement(wrapper, f"{{{CALC}}}{name}").text = str(value)
    return etree.tostring(env, encoding="unicode")


def build_push(version: Version, element: str, fields: dict):
    env, body = _envelope(version, [("Action", f"{CALC}/{element}"), ("MessageID", f"urn:uuid:{uuid.uuid4()}")])
    wrapper = etree.SubElement(body, f"{{{CALC}}}{element}", nsmap={None: CALC})
    for name, value in fields.items():
        etree.SubElement(wrapper, f"{{{CALC}}}{name}").text = str(value)
    return etree.tostring(env, encoding="unicode")


def build_fault(version: Version, fault: SoapFault, relates_to):
    v = fault.envelope or version
    extra = []
    if fault.upgrade:
        # SOAP 1.2 Part 1 §5.4.7 / Appendix A: list the envelope version this node supports.
        up = etree.Element(f"{{{ENV12}}}Upgrade", nsmap={"env12": ENV12})
        etree.SubElement(up, f"{{{ENV12}}}SupportedEnvelope", qname="env12:Envelope")
        extra.append(up)
    if v is V12:
        for ns, local in fault.not_understood:
            block = etree.Element(f"{{{ENV12}}}NotUnderstood", nsmap={"nu": ns})
            block.set("qname", f"nu:{local}")
            extra.append(block)
    wsa = [] if fault.code == "VersionMismatch" else _addressing(WSA_FAULT_ACTION, relates_to)
    env, body = _envelope(v, wsa, extra)
    f = etree.SubElement(body, f"{{{v.env}}}Fault")
    if v is V12:
        code = etree.SubElement(f, f"{{{ENV12}}}Code")
        etree.SubElement(code, f"{{{ENV12}}}Value").text = f"env:{fault.code}"
        if fault.subcode:
            sub = etree.SubElement(code, f"{{{ENV12}}}Subcode")
            prefix = "calc" if fault.subcode[0] == CALC else "sc"
            value = etree.SubElement(sub, f"{{{ENV12}}}Value", nsmap={prefix: fault.subcode[0]})
            value.text = f"{prefix}:{fault.subcode[1]}"
        reason = etree.SubElement(f, f"{{{ENV12}}}Reason")
        text = etree.SubElement(reason, f"{{{ENV12}}}Text")
        text.set(f"{{{XML_NS}}}lang", "en")
        text.text = fault.reason
        if fault.subcode and fault.subcode[0] == CALC:
            detail = etree.SubElement(f, f"{{{ENV12}}}Detail")
            etree.SubElement(detail, f"{{{CALC}}}{fault.subcode[1]}", nsmap={"calc": CALC})
    else:
        etree.SubElement(f, "faultcode").text = f"env:{v.code_name(fault.code)}"
        etree.SubElement(f, "faultstring").text = fault.reason
        # SOAP 1.1 §4.4: detail carries application errors of the Body only.
        if fault.subcode and fault.subcode[0] == CALC:
            detail = etree.SubElement(f, "detail")
            etree.SubElement(detail, f"{{{CALC}}}{fault.subcode[1]}", nsmap={"calc": CALC})
    return etree.tostring(env, encoding="unicode")


# --- reading requests ------------------------------------------------------------------

class Request:
    def __init__(self, operation, args, message_id, action):
        self.operation = operation
        self.args = args
        self.message_id = message_id
        self.action = action


_LONG = re.compile(r"[+-]?[0-9]+")


def xsd_long(args, name):
    text = args.get(name)
    if text is None:
        raise SoapFault("Sender", f"missing argument {name}")
    text = text.strip()
    if not _LONG.fullmatch(text):
        raise SoapFault("Sender", f"invalid xsd:long for {name}: {text[:40]!r}")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise SoapFault("Sender", f"xsd:long out of range for {name}")
    return value


def _truthy(value: str, version: Version) -> bool:
    value = value.strip()
    if value in ("1", "true"):
        return True
    if value in ("0", "false"):
        return False
    raise SoapFault("Sender", f"invalid mustUnderstand value {value!r}")


def parse_request(text: str, version: Version, relates: list) -> Request:
    """Raises SoapFault; fills relates[0] with the MessageID as soon as it is known."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Sender", f"not well-formed XML: {exc}") from None
    doc = root.getroottree().docinfo
    if root.tag.rsplit("}", 1)[-1] != "Envelope" or not root.tag.startswith("{"):
        # Not an envelope at all: VersionMismatch (SOAP 1.2 §5.4.7, SOAP 1.1 §4.4.1).
        raise SoapFault("VersionMismatch", f"not a SOAP envelope: {root.tag}", upgrade=version is V12)
    env_ns = etree.QName(root).namespace
    if env_ns != version.env:
        if env_ns == ENV11:
            # A SOAP 1.1 envelope on a SOAP 1.2 connection: SOAP 1.2 Appendix A.
            raise SoapFault("VersionMismatch", "SOAP 1.1 envelope on a SOAP 1.2 connection",
                            upgrade=True, envelope=V11)
        raise SoapFault("VersionMismatch", f"wrong envelope namespace {env_ns}", upgrade=version is V12)

    header = root.find(f"{{{env_ns}}}Header")
    ids = header.findall(f"{{{WSA}}}MessageID") if header is not None else []
    if ids:
        relates[0] = (ids[0].text or "").strip()

    if doc.doctype or doc.internalDTD is not None:
        # SOAP 1.2 Part 1 §5: a SOAP message MUST NOT contain a DTD.
        raise SoapFault("Sender", "DOCTYPE not allowed in a SOAP message")
    for node in root.iter():
        if isinstance(node, etree._ProcessingInstruction):
            raise SoapFault("Sender", "processing instructions not allowed in a SOAP message")

    # mustUnderstand (SOAP 1.2 §2.4, §5.2.3; SOAP 1.1 §4.2.3)
    if header is not None:
        missed = []
        for block in header:
            if not isinstance(block.tag, str):
                continue
            mu = block.get(f"{{{env_ns}}}mustUnderstand")
            if mu is None or not _truthy(mu, version):
                continue
            if version is V12:
                targeted = block.get(f"{{{ENV12}}}role") in ULTIMATE_ROLES_12
            else:
                targeted = block.get(f"{{{ENV11}}}actor") in ULTIMATE_ACTORS_11
            if targeted and etree.QName(block) not in UNDERSTOOD:
                q = etree.QName(block)
                missed.append((q.namespace or "", q.localname))
        if missed:
            names = ", ".join(f"{{{ns}}}{local}" for ns, local in missed)
            raise SoapFault("MustUnderstand", f"header not understood: {names}", not_understood=missed)

    # WS-Addressing: at most one of each; Action must match the operation.
    action = None
    if header is not None:
        for local in ("Action", "MessageID", "To", "RelatesTo", "ReplyTo", "FaultTo", "From"):
            found = header.findall(f"{{{WSA}}}{local}")
            if len(found) > 1 and local != "RelatesTo":
                raise SoapFault("Sender", f"duplicate wsa:{local}", subcode=(WSA, "InvalidAddressingHeader"))
        node = header.find(f"{{{WSA}}}Action")
        if node is not None:
            action = (node.text or "").strip()

    body = root.find(f"{{{env_ns}}}Body")
    if body is None:
        raise SoapFault("Sender", "no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault("Sender", f"expected one body element, got {len(children)}")
    op_el = children[0]
    q = etree.QName(op_el)
    if q.namespace != CALC or q.localname not in OPERATIONS:
        raise SoapFault("Sender", f"unknown operation {{{q.namespace or ''}}}{q.localname}")
    if action is not None and action != f"{CALC}/{q.localname}":
        raise SoapFault("Sender", f"action not supported: {action}", subcode=(WSA, "ActionNotSupported"))
    args = {}
    for child in op_el:
        if not isinstance(child.tag, str):
            continue
        cq = etree.QName(child)
        if cq.namespace != CALC or cq.localname not in OPERATIONS[q.localname][0]:
            raise SoapFault("Sender", f"unexpected element {{{cq.namespace or ''}}}{cq.localname} in {q.localname}")
        if cq.localname in args:
            raise SoapFault("Sender", f"duplicate element {cq.localname} in {q.localname}")
        if len(child):
            raise SoapFault("Sender", f"element {cq.localname} must hold text only")
        args[cq.localname] = child.text or ""
    return Request(q.localname, args, relates[0], action)


# --- operations ------------------------------------------------------------------------

def _checked(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise SoapFault("Sender", "integer overflow", subcode=(CALC, "Overflow"))
    return value


async def op_add(peer, args):
    return {"result": _checked(xsd_long(args, "a") + xsd_long(args, "b"))}, None


async def op_subtract(peer, args):
    return {"result": _checked(xsd_long(args, "a") - xsd_long(args, "b"))}, None


async def op_multiply(peer, args):
    return {"result": _checked(xsd_long(args, "a") * xsd_long(args, "b"))}, None


async def op_divide(peer, args):
    a, b = xsd_long(args, "a"), xsd_long(args, "b")
    if b == 0:
        raise SoapFault("Sender", "division by zero", subcode=(CALC, "DivisionByZero"))
    q = abs(a) // abs(b)  # truncate toward zero
    return {"result": _checked(q if (a < 0) == (b < 0) else -q)}, None


async def op_echo(peer, args):
    if "text" not in args:
        raise SoapFault("Sender", "missing argument text")
    delay = xsd_long(args, "delayMs")
    if not 0 <= delay <= MAX_DELAY_MS:
        raise SoapFault("Sender", f"delayMs must be within 0..{MAX_DELAY_MS}")
    if delay:
        await asyncio.sleep(delay / 1000)
    return {"text": args["text"]}, None


async def op_subscribe(peer, args):
    count, interval = xsd_long(args, "count"), xsd_long(args, "intervalMs")
    if not 0 <= count <= MAX_TICKS:
        raise SoapFault("Sender", f"count must be within 0..{MAX_TICKS}")
    if not 0 <= interval <= MAX_DELAY_MS:
        raise SoapFault("Sender", f"intervalMs must be within 0..{MAX_DELAY_MS}")

    async def ticks():
        for n in range(1, count + 1):
            await asyncio.sleep(interval / 1000)
            await peer.send(build_push(peer.version, "Tick", {"n": n}))
            log("push", conn=peer.cid, element="Tick", n=n)

    return {"accepted": count}, ticks


# name -> (argument names, handler)
OPERATIONS = {
    "Add": ({"a", "b"}, op_add),
    "Subtract": ({"a", "b"}, op_subtract),
    "Multiply": ({"a", "b"}, op_multiply),
    "Divide": ({"a", "b"}, op_divide),
    "Echo": ({"text", "delayMs"}, op_echo),
    "Subscribe": ({"count", "intervalMs"}, op_subscribe),
}


# --- connections -----------------------------------------------------------------------

class PeerConnection:
    counter = 0

    def __init__(self, ws, version: Version):
        PeerConnection.counter += 1
        self.cid = PeerConnection.counter
        self.ws = ws
        self.version = version
        self.tasks: set[asyncio.Task] = set()

    async def send(self, text: str):
        await self.ws.send(text)

    def spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handle(self, text: str):
        relates = [None]
        request = None
        try:
            request = parse_request(text, self.version, relates)
            log("request", conn=self.cid, operation=request.operation, messageId=request.message_id,
                action=request.action, args=request.args)
            fields, after = await OPERATIONS[request.operation][1](self, request.args)
            await self.send(build_response(self.version, request.operation, fields, request.message_id))
            log("answer", conn=self.cid, operation=request.operation, relatesTo=request.message_id,
                result={k: str(v) for k, v in fields.items()})
            if after is not None:
                self.spawn(after())
        except SoapFault as fault:
            await self.send(build_fault(self.version, fault, relates[0]))
            log("fault", conn=self.cid, operation=request.operation if request else None, relatesTo=relates[0],
                code=fault.code, subcode=fault.subcode[1] if fault.subcode else None, reason=fault.reason)
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - a Receiver fault, and keep serving
            try:
                await self.send(build_fault(self.version, SoapFault("Receiver", "internal error"), relates[0]))
            except ConnectionClosed:
                pass
            log("error", conn=self.cid, error=repr(exc))

    async def run(self):
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    # [MS-SWSB] binary frames carry the .NET binary encoding: not spoken here.
                    await self.ws.close(1003, "binary messages are not supported")
                    break
                self.spawn(self.handle(message))
        except ConnectionClosed:
            pass
        finally:
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            log("disconnect", conn=self.cid)


class Peer:
    def __init__(self, host: str):
        self.host = host
        self.port = None
        self.wsdl_template = WSDL_FILE.read_text(encoding="utf-8")

    def wsdl(self) -> str:
        return self.wsdl_template.replace(WSDL_PLACEHOLDER, f"ws://{self.host}:{self.port}/soap")

    def process_request(self, connection, request):
        parts = urlsplit(request.path)
        if parts.path != "/soap":
            return connection.respond(404, "not found\n")
        upgrade = request.headers.get("Upgrade")
        if upgrade is None or upgrade.lower() != "websocket":
            query = parse_qs(parts.query, keep_blank_values=True)
            if "wsdl" in {k.lower() for k in query}:
                response = connection.respond(200, self.wsdl())
                del response.headers["Content-Type"]  # Headers would add a second one
                response.headers["Content-Type"] = "text/xml; charset=utf-8"
                return response
            return connection.respond(400, "WebSocket upgrade or ?wsdl expected\n")
        header = request.headers.get("soap-content-type")
        version = version_from_header(header)
        if version is None:
            return connection.respond(415, f"unsupported soap-content-type {header!r}\n")
        connection.soap_version = version
        connection.soap_content_type = header
        return None

    async def handler(self, ws):
        version = getattr(ws, "soap_version", V12)
        conn = PeerConnection(ws, version)
        log("connect", conn=conn.cid, version=version.name, subprotocol=ws.subprotocol,
            soapContentType=getattr(ws, "soap_content_type", None))
        await conn.run()


async def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    peer = Peer(args.host)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    server = await serve(peer.handler, args.host, args.port, subprotocols=["soap"],
                         process_request=peer.process_request, compression=None,
                         open_timeout=10, close_timeout=5, max_size=1 << 20)
    peer.port = server.sockets[0].getsockname()[1]
    print(f"listening on {args.host}:{peer.port}", flush=True)
    await stop
    server.close()
    try:  # bounded: a client that keeps a plain HTTP connection open must not hold us
        await asyncio.wait_for(server.wait_closed(), 3)
    except asyncio.TimeoutError:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
