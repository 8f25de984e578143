"""A zeep transport that carries SOAP over WebSocket ([MS-SWSB]).

Each envelope zeep wants to POST goes out as one WebSocket TEXT message on a
connection opened with the `soap` subprotocol and a `soap-content-type`
handshake header naming the SOAP version of the envelope; the answer comes back
as one TEXT message and is handed to zeep dressed as the HTTP response zeep
expects (status 200, or 500 when the body holds a Fault, and a Content-Type).

One connection is kept per (address, SOAP version) and read by one thread.
Answers are matched to requests by wsa:RelatesTo when the request carried a
wsa:MessageID, otherwise by the document/literal wrapped convention (the body
element of the answer is the request's body element name + "Response", or a
Fault). Everything else that arrives (one-way pushes such as Tick) is kept, in
arrival order, in `pushes`. Several threads may call through one transport at
once; each waits only for its own answer.

WSDL and schema documents are fetched with plain HTTP GET from the ws URL's
http twin (ws -> http, wss -> https). Note that zeep.Client must be given the
http(s) URL of the WSDL (see `wsdl_url`): zeep treats a location whose scheme
is not http/https/file as a relative file path.

Every wait is bounded: opening (open_timeout), each answer
(operation_timeout), WSDL loading (timeout), closing (close_timeout).
"""
from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit

from lxml import etree
from requests import Response
from requests.structures import CaseInsensitiveDict
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import zeep
from zeep.exceptions import TransportError
from zeep.wsdl import bindings as zeep_bindings
from zeep.wsdl.utils import etree_to_string

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
MS_SWSB_TRANSPORT = "http://schemas.microsoft.com/soap/websocket"
SOAP_HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"

CONTENT_TYPE = {
    ENV12: "application/soap+xml; charset=utf-8",
    ENV11: "text/xml; charset=utf-8",
}


def http_twin(url: str) -> str:
    """ws://h:p/x -> http://h:p/x, wss -> https; other URLs unchanged."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def wsdl_url(ws_url: str) -> str:
    """The http URL to give zeep.Client for the WSDL of a ws:// SOAP endpoint."""
    base = http_twin(ws_url)
    return base if "?" in base else base + "?wsdl"


def safe_parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: answers are data only.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                           huge_tree=False, remove_blank_text=False)


def parse_envelope(text: str | bytes):
    """-> the root element, or None when the text is not well-formed XML."""
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError:
        return None


def _header_text(root, local):
    if root is None:
        return None
    ns = etree.QName(root).namespace
    value = root.findtext(f"{{{ns}}}Header/{{{WSA}}}{local}")
    return value.strip() if value is not None else None


def message_id(root):
    return _header_text(root, "MessageID")


def relates_to(root):
    return _header_text(root, "RelatesTo")


def action(root):
    return _header_text(root, "Action")


def body_child(root):
    """The first element child of the Body, or None."""
    if root is None:
        return None
    ns = etree.QName(root).namespace
    body = root.find(f"{{{ns}}}Body")
    if body is None:
        return None
    for child in body:
        if isinstance(child.tag, str):
            return child
    return None


def _qname(text, element):
    """Resolve a QName-valued text (prefix:local) against element's namespaces."""
    text = (text or "").strip()
    prefix, _, local = text.rpartition(":")
    return etree.QName(element.nsmap.get(prefix or None), local)


def fault_info(text: str | bytes):
    """The fault in an answer, as a dict, or None when the body holds no Fault.
    Keys: version ("1.1"/"1.2"), code (QName, prefix resolved), subcodes
    (list of QName, 1.2 only), reason (str), lang (xml:lang of the reason, 1.2),
    detail (element or None), not_understood (list of QName, 1.2 header blocks),
    upgrade (list of QName of env:SupportedEnvelope, any version)."""
    root = parse_envelope(text)
    child = body_child(root)
    if child is None or etree.QName(child).localname != "Fault":
        return None
    ns = etree.QName(root).namespace
    upgrade = [_qname(e.get("qname"), e) for e in root.iterfind(f"{{{ns}}}Header/{{{ENV12}}}Upgrade/{{{ENV12}}}SupportedEnvelope")]
    if ns == ENV12:
        value = child.find(f"{{{ENV12}}}Code/{{{ENV12}}}Value")
        subcodes = []
        sub = child.find(f"{{{ENV12}}}Code/{{{ENV12}}}Subcode")
        while sub is not None:
            v = sub.find(f"{{{ENV12}}}Value")
            subcodes.append(_qname(v.text if v is not None else "", v if v is not None else sub))
            sub = sub.find(f"{{{ENV12}}}Subcode")
        reason = child.find(f"{{{ENV12}}}Reason/{{{ENV12}}}Text")
        return {
            "version": "1.2",
            "code": _qname(value.text, value) if value is not None else None,
            "subcodes": subcodes,
            "reason": reason.text if reason is not None else None,
            "lang": reason.get("{http://www.w3.org/XML/1998/namespace}lang") if reason is not None else None,
            "detail": child.find(f"{{{ENV12}}}Detail"),
            "not_understood": [_qname(e.get("qname"), e)
                               for e in root.iterfind(f"{{{ENV12}}}Header/{{{ENV12}}}NotUnderstood")],
            "upgrade": upgrade,
        }
    code = child.find("faultcode")
    return {
        "version": "1.1",
        "code": _qname(code.text, code) if code is not None else None,
        "subcodes": [],
        "reason": child.findtext("faultstring"),
        "lang": None,
        "detail": child.find("detail"),
        "not_understood": [],
        "upgrade": upgrade,
    }


# --- bindings: accept the [MS-SWSB] transport URI -----------------------------------

def _swsb_parse(base):
    """A parse classmethod for a zeep SOAP binding class that also accepts
    soap:binding transport="http://schemas.microsoft.com/soap/websocket".
    zeep's own check (SoapBinding.parse) only knows the two HTTP transport URIs
    and raises NotImplementedError for any other, after which zeep drops the
    binding and every port that uses it. The attribute is swapped for the
    duration of zeep's parse and put back."""

    @classmethod
    def parse(cls, definitions, xmlelement):
        soap_node = xmlelement.find("soap:binding", namespaces=cls.nsmap)
        original = soap_node.get("transport") if soap_node is not None else None
        if original != MS_SWSB_TRANSPORT:
            return base.parse.__func__(cls, definitions, xmlelement)
        soap_node.set("transport", SOAP_HTTP_TRANSPORT)
        try:
            binding = base.parse.__func__(cls, definitions, xmlelement)
        finally:
            soap_node.set("transport", original)
        binding.transport = original
        return binding

    return parse


class WebSocketSoap11Binding(zeep_bindings.Soap11Binding):
    parse = _swsb_parse(zeep_bindings.Soap11Binding)


class WebSocketSoap12Binding(zeep_bindings.Soap12Binding):
    parse = _swsb_parse(zeep_bindings.Soap12Binding)


# --- the transport -------------------------------------------------------------------

class _Pending:
    def __init__(self, msg_id, expected_name):
        self.msg_id = msg_id
        self.expected_name = expected_name  # (namespace, localname) or None
        self.answer: str | None = None


class _Connection:
    def __init__(self, transport, address, env_ns):
        self.transport = transport
        self.address = address
        self.env_ns = env_ns
        self.ws = connect(
            address,
            subprotocols=["soap"],
            additional_headers={"soap-content-type": CONTENT_TYPE[env_ns]},
            open_timeout=transport.open_timeout,
            close_timeout=transport.close_timeout,
            compression=transport.compression,
            max_size=transport.max_size,
            proxy=None,
            legacy=True,  # a connection kept open across calls, not a with-block
        )
        if self.ws.subprotocol != "soap":
            self.ws.close()
            raise TransportError(f"{address}: server did not select the soap subprotocol "
                                 f"(got {self.ws.subprotocol!r})")
        self.pending: list[_Pending] = []
        self.closed: str | None = None
        self.reader = threading.Thread(target=self._read, name=f"soap-ws-reader {address}", daemon=True)
        self.reader.start()

    def _read(self):
        cond = self.transport._cond
        try:
            for message in self.ws:
                self._dispatch(message)
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - reported to the waiting callers
            with cond:
                self.closed = f"reader failed: {exc!r}"
        finally:
            with cond:
                if self.closed is None:
                    code, reason = self.ws.close_code, self.ws.close_reason
                    self.closed = f"connection closed ({code} {reason!r})" if code is not None else "connection closed"
                cond.notify_all()

    def _dispatch(self, message):
        cond = self.transport._cond
        if isinstance(message, bytes):
            with cond:
                self.transport.binary.append(message)
                cond.notify_all()
            return
        root = parse_envelope(message)
        rel = relates_to(root)
        child = body_child(root)
        name = (etree.QName(child).namespace, etree.QName(child).localname) if child is not None else None
        is_fault = name is not None and name[1] == "Fault" and name[0] in (ENV11, ENV12)
        with cond:
            self.transport.received.append(message)
            waiting = [p for p in self.pending if p.answer is None]
            match = None
            for p in waiting:
                if p.msg_id is not None:
                    if rel == p.msg_id:
                        match = p
                        break
                elif rel is None and (is_fault or name == p.expected_name):
                    match = p
                    break
            if match is None and rel is None and is_fault and waiting:
                # A fault the server could not correlate (say, for a message it
                # could not read): the oldest waiting request gets it.
                match = waiting[0]
            if match is not None:
                match.answer = message
            else:
                self.transport.pushes.append(message)
            cond.notify_all()

    def call(self, text: str, msg_id, expected_name, timeout) -> str:
        cond = self.transport._cond
        pending = _Pending(msg_id, expected_name)
        with cond:
            if self.closed:
                raise TransportError(f"{self.address}: {self.closed}")
            self.pending.append(pending)
        try:
            self.ws.send(text)
            deadline = time.monotonic() + timeout
            with cond:
                while pending.answer is None:
                    if self.closed:
                        raise TransportError(f"{self.address}: {self.closed} before the answer")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TransportError(f"{self.address}: no answer within {timeout}s")
                    cond.wait(min(left, 0.5))
                return pending.answer
        finally:
            with cond:
                self.pending.remove(pending)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.reader.join(timeout=self.transport.close_timeout + 1)


class SoapWebSocketTransport(zeep.Transport):
    """zeep Transport for SOAP over WebSocket. Use as a context manager, or call
    close(). Read `pushes` (text of unsolicited messages, in arrival order),
    `received` (every text message), `sent` (every envelope sent)."""

    # zeep's WSDL parser takes its binding classes from the transport when it
    # has this attribute (zeep.wsdl.wsdl.Definition.parse_binding).
    binding_classes = [
        WebSocketSoap11Binding,
        WebSocketSoap12Binding,
        zeep_bindings.HttpGetBinding,
        zeep_bindings.HttpPostBinding,
    ]

    def __init__(self, timeout=10.0, operation_timeout=10.0, open_timeout=10.0, close_timeout=5.0,
                 compression=None, max_size=1 << 20, cache=None):
        super().__init__(cache=cache, timeout=timeout, operation_timeout=operation_timeout)
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.compression = compression
        self.max_size = max_size
        self._cond = threading.Condition()
        self._conns: dict[tuple[str, str], _Connection] = {}
        self._open_lock = threading.Lock()
        self.pushes: list[str] = []
        self.received: list[str] = []
        self.binary: list[bytes] = []
        self.sent: list[str] = []
        self.last_answer: str | None = None

    # -- zeep's entry points --

    def load(self, url):
        return super().load(http_twin(url))

    def post_xml(self, address, envelope, headers):
        return self.post(address, etree_to_string(envelope), headers)

    def post(self, address, message, headers):
        text = message.decode("utf-8") if isinstance(message, bytes) else message
        root = parse_envelope(text)
        if root is None:
            raise TransportError("refusing to send a message that is not well-formed XML")
        env_ns = etree.QName(root).namespace
        if env_ns not in CONTENT_TYPE:
            raise TransportError(f"not a SOAP 1.1/1.2 envelope: {root.tag}")
        child = body_child(root)
        expected = None
        if child is not None:
            q = etree.QName(child)
            expected = (q.namespace, q.localname + "Response")
        conn = self._connection(address, env_ns)
        with self._cond:
            self.sent.append(text)
        answer = conn.call(text, message_id(root), expected, self.operation_timeout or 10.0)
        with self._cond:
            self.last_answer = answer
        return self._response(address, answer, env_ns)

    # -- helpers for tests --

    def wait_pushes(self, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until at least `count` pushes have arrived; return the first `count`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.pushes) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.pushes)} of {count} pushes within {timeout}s: {self.pushes!r}")
                if self._conns and all(c.closed for c in self._conns.values()):
                    raise AssertionError(f"connection closed after {len(self.pushes)} of {count} pushes")
                self._cond.wait(min(left, 0.5))
            return list(self.pushes[:count])

    def close(self):
        with self._open_lock:
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
        super().__del__()

    # -- internals --

    def _connection(self, address, env_ns) -> _Connection:
        key = (address, env_ns)
        with self._open_lock:
            conn = self._conns.get(key)
            if conn is None or conn.closed:
                try:
                    conn = _Connection(self, address, env_ns)
                except TransportError:
                    raise
                except Exception as exc:
                    raise TransportError(f"{address}: WebSocket open failed: {exc!r}") from exc
                self._conns[key] = conn
            return conn

    @staticmethod
    def _response(address, answer: str, env_ns: str) -> Response:
        root = parse_envelope(answer)
        child = body_child(root)
        fault = child is not None and etree.QName(child).localname == "Fault" \
            and etree.QName(child).namespace in (ENV11, ENV12)
        ans_ns = etree.QName(root).namespace if root is not None else env_ns
        response = Response()
        response.status_code = 500 if fault else 200
        response.reason = "Internal Server Error" if fault else "OK"
        response.url = address
        response.encoding = "utf-8"
        response.headers = CaseInsensitiveDict({"Content-Type": CONTENT_TYPE.get(ans_ns, CONTENT_TYPE[env_ns])})
        response._content = answer.encode("utf-8")
        return response
