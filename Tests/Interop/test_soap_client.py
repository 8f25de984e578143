"""SOAP-over-WebSocket client interop: `switchboard soap-call` against
soap_peer.py, an independent Python peer (websockets + lxml).

    switchboard soap-call ws://127.0.0.1:P/soap --namespace urn:example:calc \
        [--soap11] [--wait-pushes N] 'Add a=2 b=3' 'Echo text=slow delayMs=300' ...

runs all calls concurrently over one connection and prints, in argument order,
one JSON line per call: {"operation": "Add", "result": {"result": "5"}} or
{"operation": "Divide", "fault": {"code": "Sender", "subcode": "DivisionByZero",
"reason": "division by zero"}} (SOAP 1.1: code "Client", no subcode); then one
line per one-way message received, {"push": "Tick", "body": {"n": "1"}},
waiting for N of them with --wait-pushes N. Exit 0 when every call got a result
or a fault. The peer logs, as JSON lines on its stdout, what it received and
the order in which it sent its answers.

The test_peer_* tests check the peer itself with zeep (over
soap_ws_transport.py) and raw websockets, so that a failure of the client tests
is not the peer's: they need no switchboard binary.
"""
from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import zeep
from lxml import etree
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.wsa import WsAddressingPlugin

from conftest import STARTUP_TIMEOUT, Proc, switchboard_bin
from soap_ws_transport import (CONTENT_TYPE, ENV11, ENV12, WSA, SoapWebSocketTransport, action, body_child,
                               fault_info, message_id, parse_envelope, relates_to, wsdl_url)

CALC = "urn:example:calc"
PEER = Path(__file__).with_name("soap_peer.py")
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
VERSIONS = pytest.mark.parametrize("soap11", [False, True], ids=["soap12", "soap11"])


class Peer:
    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/soap"

    def events(self) -> list[dict]:
        return [json.loads(l) for l in list(self.proc.out) if l.startswith("{")]

    def wait_event(self, pred, timeout=10.0) -> dict:
        line = self.proc.wait_line(lambda l: l.startswith("{") and pred(json.loads(l)), stream="out",
                                   timeout=timeout)
        return json.loads(line)


@pytest.fixture
def peer():
    proc = Proc([sys.executable, PEER, "--port", "0"])
    try:
        line = proc.wait_line(lambda l: l.startswith("listening on "), stream="out", timeout=STARTUP_TIMEOUT)
        yield Peer(proc, int(line.rsplit(":", 1)[1]))
    finally:
        proc.stop()


def soap_call(peer: Peer, *calls, soap11=False, wait_pushes=None, timeout=30.0):
    """Run `switchboard soap-call` to completion -> (exit code, stdout JSON lines, Proc)."""
    args = [switchboard_bin(), "soap-call", peer.url, "--namespace", CALC]
    if soap11:
        args.append("--soap11")
    if wait_pushes is not None:
        args += ["--wait-pushes", str(wait_pushes)]
    proc = Proc(args + list(calls))
    try:
        rc = proc.wait(timeout=timeout)
    finally:
        proc.stop()
    lines = []
    for line in proc.out:
        if line.strip():
            try:
                lines.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"stdout line is not JSON: {line!r}\n{proc.dump()}") from None
    return rc, lines, proc


def division_fault(soap11):
    if soap11:
        return {"code": "Client", "reason": "division by zero"}
    return {"code": "Sender", "subcode": "DivisionByZero", "reason": "division by zero"}


# --- switchboard soap-call against the peer ---------------------------------------------

@VERSIONS
def test_client_concurrent_calls_results_and_faults(peer, soap11):
    calls = [
        "Add a=2 b=3",
        "Echo text=slow delayMs=300",
        "Echo text=fast delayMs=0",
        "Divide a=1 b=0",
        "Subtract a=2 b=5",
        "Multiply a=-4 b=6",
        "Divide a=-7 b=2",
    ]
    rc, lines, proc = soap_call(peer, *calls, soap11=soap11)
    assert rc == 0, proc.dump()
    assert lines == [
        {"operation": "Add", "result": {"result": "5"}},
        {"operation": "Echo", "result": {"text": "slow"}},
        {"operation": "Echo", "result": {"text": "fast"}},
        {"operation": "Divide", "fault": division_fault(soap11)},
        {"operation": "Subtract", "result": {"result": "-3"}},
        {"operation": "Multiply", "result": {"result": "-24"}},
        {"operation": "Divide", "result": {"result": "-3"}},
    ], proc.dump()

    peer.wait_event(lambda e: e["event"] == "disconnect")
    events = peer.events()
    connects = [e for e in events if e["event"] == "connect"]
    assert len(connects) == 1, "all calls go over one connection"
    assert connects[0]["subprotocol"] == "soap"
    assert connects[0]["version"] == ("1.1" if soap11 else "1.2")
    media = (connects[0]["soapContentType"] or "").split(";")[0].strip().lower()
    assert media == ("text/xml" if soap11 else "application/soap+xml")

    requests = [e for e in events if e["event"] == "request"]
    assert len(requests) == len(calls)
    ids = [r["messageId"] for r in requests]
    assert all(ids) and len(set(ids)) == len(ids), f"each request needs its own wsa:MessageID: {ids}"

    def answer_index(text):
        return next(i for i, e in enumerate(events)
                    if e["event"] == "answer" and e["operation"] == "Echo" and e["result"] == {"text": text})

    slow, fast = answer_index("slow"), answer_index("fast")
    assert fast < slow, "the peer answered the fast Echo first"
    # Concurrency: every request reached the peer before the slow answer left it.
    assert max(i for i, e in enumerate(events) if e["event"] == "request") < slow
    answered = {e["relatesTo"] for e in events if e["event"] in ("answer", "fault")}
    assert answered == set(ids)


@VERSIONS
def test_client_overflow_faults(peer, soap11):
    rc, lines, proc = soap_call(peer, f"Multiply a={INT64_MAX} b=2", f"Add a={INT64_MIN} b=-1",
                                f"Subtract a={INT64_MIN} b=1", "Add a=1 b=1", soap11=soap11)
    assert rc == 0, proc.dump()
    assert [l["operation"] for l in lines] == ["Multiply", "Add", "Subtract", "Add"]
    for line in lines[:3]:
        fault = line["fault"]
        assert fault["code"] == ("Client" if soap11 else "Sender")
        assert "overflow" in fault["reason"]
        if soap11:
            assert "subcode" not in fault
        else:
            assert fault["subcode"] == "Overflow"
    assert lines[3] == {"operation": "Add", "result": {"result": "2"}}


@VERSIONS
def test_client_waits_for_pushes(peer, soap11):
    rc, lines, proc = soap_call(peer, "Subscribe count=3 intervalMs=20", "Add a=40 b=2",
                                soap11=soap11, wait_pushes=3)
    assert rc == 0, proc.dump()
    assert lines == [
        {"operation": "Subscribe", "result": {"accepted": "3"}},
        {"operation": "Add", "result": {"result": "42"}},
        {"push": "Tick", "body": {"n": "1"}},
        {"push": "Tick", "body": {"n": "2"}},
        {"push": "Tick", "body": {"n": "3"}},
    ], proc.dump()


# --- the peer itself, checked with zeep and raw websockets ------------------------------

PORTS = pytest.mark.parametrize("port_name", ["CalculatorSoap12", "CalculatorSoap11"])


@pytest.fixture
def transport():
    with SoapWebSocketTransport(timeout=10, operation_timeout=10) as t:
        yield t


def zeep_service(peer, transport, port_name, plugins=()):
    client = zeep.Client(wsdl_url(peer.url), transport=transport, plugins=list(plugins))
    return client.bind("CalculatorService", port_name)


@PORTS
def test_peer_zeep_calls(peer, transport, port_name):
    service = zeep_service(peer, transport, port_name)
    assert service.Add(a=2, b=3) == 5
    assert service.Subtract(a=2, b=5) == -3
    assert service.Multiply(a=-4, b=6) == -24
    assert service.Divide(a=7, b=2) == 3
    assert service.Divide(a=-7, b=2) == -3
    assert service.Divide(a=7, b=-2) == -3
    assert service.Add(a=INT64_MAX, b=INT64_MIN) == -1
    assert service.Echo(text="héllo <&>", delayMs=0) == "héllo <&>"


@PORTS
def test_peer_zeep_faults(peer, transport, port_name):
    service = zeep_service(peer, transport, port_name)
    soap12 = port_name.endswith("12")
    with pytest.raises(Fault) as e:
        service.Divide(a=1, b=0)
    assert e.value.message == "division by zero"
    info = fault_info(transport.last_answer)
    if soap12:
        assert e.value.code.split(":")[-1] == "Sender"
        assert info["code"] == etree.QName(ENV12, "Sender")
        assert e.value.subcodes == [etree.QName(CALC, "DivisionByZero")]
        assert info["lang"] == "en"
    else:
        assert e.value.code.split(":")[-1] == "Client"
        assert info["code"] == etree.QName(ENV11, "Client")
        assert not e.value.subcodes
    for call in (lambda: service.Add(a=INT64_MAX, b=1), lambda: service.Subtract(a=INT64_MIN, b=1),
                 lambda: service.Multiply(a=INT64_MAX, b=2), lambda: service.Divide(a=INT64_MIN, b=-1)):
        with pytest.raises(Fault) as e:
            call()
        assert "overflow" in e.value.message
        assert e.value.code.split(":")[-1] == ("Sender" if soap12 else "Client")
    assert service.Add(a=1, b=1) == 2  # the connection is still good


@PORTS
def test_peer_zeep_ws_addressing(peer, transport, port_name):
    history = HistoryPlugin()
    service = zeep_service(peer, transport, port_name, plugins=[WsAddressingPlugin(), history])
    assert service.Add(a=20, b=22) == 42
    sent = history.last_sent["envelope"]
    got = parse_envelope(transport.last_answer)
    assert message_id(sent) and relates_to(got) == message_id(sent)
    assert action(sent) == f"{CALC}/Add"
    assert action(got) == f"{CALC}/AddResponse"
    with pytest.raises(Fault):
        service.Divide(a=1, b=0)
    assert relates_to(parse_envelope(transport.last_answer)) == message_id(history.last_sent["envelope"])


def test_peer_zeep_concurrent_calls_share_one_socket(peer, transport):
    service = zeep_service(peer, transport, "CalculatorSoap12", plugins=[WsAddressingPlugin()])
    done, results = [], {}

    def call(text, delay):
        results[text] = service.Echo(text=text, delayMs=delay)
        done.append(text)

    slow = threading.Thread(target=call, args=("slow", 400))
    slow.start()
    peer.wait_event(lambda e: e["event"] == "request" and e["args"].get("text") == "slow")
    fast = threading.Thread(target=call, args=("fast", 0))
    fast.start()
    for t in (slow, fast):
        t.join(timeout=15)
    assert results == {"slow": "slow", "fast": "fast"}
    assert done == ["fast", "slow"]
    assert len([e for e in peer.events() if e["event"] == "connect"]) == 1


@PORTS
def test_peer_zeep_pushes(peer, transport, port_name):
    service = zeep_service(peer, transport, port_name)
    assert service.Subscribe(count=3, intervalMs=20) == 3
    pushes = [parse_envelope(p) for p in transport.wait_pushes(3, timeout=10)]
    for n, push in enumerate(pushes, 1):
        assert action(push) == f"{CALC}/Tick"
        tick = body_child(push)
        assert tick.tag == f"{{{CALC}}}Tick"
        assert tick.findtext(f"{{{CALC}}}n") == str(n)
    assert service.Add(a=1, b=2) == 3  # answers still found among pushes


def test_peer_wsdl_and_vanilla_zeep():
    """The peer's WSDL names the [MS-SWSB] transport on its SOAP 1.2 binding:
    plain zeep drops that binding and its port; SoapWebSocketTransport keeps it."""
    client = zeep.Client(str(PEER.with_name("soap_peer_calc.wsdl")))
    assert list(client.wsdl.services["CalculatorService"].ports) == ["CalculatorSoap11"]
    client = zeep.Client(str(PEER.with_name("soap_peer_calc.wsdl")), transport=SoapWebSocketTransport())
    assert list(client.wsdl.services["CalculatorService"].ports) == ["CalculatorSoap12", "CalculatorSoap11"]


def test_peer_http_wsdl(peer):
    with urllib.request.urlopen(wsdl_url(peer.url), timeout=10) as r:
        assert r.headers.get_content_type() == "text/xml"
        doc = etree.fromstring(r.read())
    assert doc.get("targetNamespace") == CALC
    addresses = {a.get("location") for a in doc.iter() if etree.QName(a).localname == "address"}
    assert addresses == {peer.url}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{peer.port}/nowhere", timeout=10)
    e.value.close()
    assert e.value.code == 404


def raw(peer, soap11=False, subprotocols=("soap",), content_type="default"):
    headers = {}
    if content_type == "default":
        headers["soap-content-type"] = CONTENT_TYPE[ENV11 if soap11 else ENV12]
    elif content_type is not None:
        headers["soap-content-type"] = content_type
    return connect(peer.url, subprotocols=list(subprotocols) if subprotocols else None,
                   additional_headers=headers, open_timeout=10, close_timeout=5, proxy=None, compression=None, legacy=True)


def envelope(env_ns, body, headers="", mid=None):
    wsa = f"<wsa:MessageID>{mid}</wsa:MessageID>" if mid else ""
    return (f'<e:Envelope xmlns:e="{env_ns}" xmlns:wsa="{WSA}"><e:Header>{wsa}{headers}</e:Header>'
            f'<e:Body>{body}</e:Body></e:Envelope>')


@VERSIONS
def test_peer_raw_out_of_order_and_relates_to(peer, soap11):
    env_ns = ENV11 if soap11 else ENV12
    with raw(peer, soap11) as ws:
        assert ws.subprotocol == "soap"
        ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(3)]
        ws.send(envelope(env_ns, f'<Echo xmlns="{CALC}"><text>a</text><delayMs>300</delayMs></Echo>', mid=ids[0]))
        ws.send(envelope(env_ns, f'<Add xmlns="{CALC}"><a>1</a><b>2</b></Add>', mid=ids[1]))
        ws.send(envelope(env_ns, f'<Divide xmlns="{CALC}"><a>1</a><b>0</b></Divide>', mid=ids[2]))
        answers = [parse_envelope(ws.recv(timeout=10)) for _ in range(3)]
    assert [relates_to(a) for a in answers][2] == ids[0], "the slow Echo answered last"
    by_id = {relates_to(a): a for a in answers}
    assert set(by_id) == set(ids)
    assert all(etree.QName(a).namespace == env_ns for a in answers)
    assert body_child(by_id[ids[1]]).findtext(f"{{{CALC}}}result") == "3"
    info = fault_info(etree.tostring(by_id[ids[2]]))
    assert info["code"] == etree.QName(env_ns, "Client" if soap11 else "Sender")
    assert info["reason"] == "division by zero"


@VERSIONS
def test_peer_raw_soap_processing_faults(peer, soap11):
    env_ns = ENV11 if soap11 else ENV12
    sender = etree.QName(env_ns, "Client" if soap11 else "Sender")
    add = f'<Add xmlns="{CALC}"><a>1</a><b>2</b></Add>'
    with raw(peer, soap11) as ws:
        def ask(text):
            ws.send(text)
            return ws.recv(timeout=10)

        # DOCTYPE: Sender/Client fault, still correlated.
        mid = f"urn:uuid:{uuid.uuid4()}"
        answer = ask('<!DOCTYPE e:Envelope [<!ENTITY x "boom">]>' + envelope(env_ns, add, mid=mid))
        info = fault_info(answer)
        assert info["code"] == sender and "DOCTYPE" in info["reason"]
        assert relates_to(parse_envelope(answer)) == mid

        # Not well-formed.
        assert fault_info(ask("<e:Envelope"))["code"] == sender

        # mustUnderstand on an unknown header block.
        mu = "true" if not soap11 else "1"
        block = f'<x:Secret xmlns:x="urn:x" e:mustUnderstand="{mu}">?</x:Secret>'
        info = fault_info(ask(envelope(env_ns, add, headers=block)))
        assert info["code"] == etree.QName(env_ns, "MustUnderstand")
        if not soap11:
            assert info["not_understood"] == [etree.QName("urn:x", "Secret")]
        # ...but not when it is targeted at another role/actor, or not mandatory.
        other = (f'<x:Secret xmlns:x="urn:x" e:mustUnderstand="{mu}" '
                 + ('e:actor="urn:elsewhere"' if soap11 else 'e:role="urn:elsewhere"') + '>?</x:Secret>')
        assert fault_info(ask(envelope(env_ns, add, headers=other))) is None
        assert fault_info(ask(envelope(env_ns, add, headers='<x:Note xmlns:x="urn:x">?</x:Note>'))) is None

        # Envelope of an unknown namespace: VersionMismatch in the connection's version.
        info = fault_info(ask(envelope("urn:not-soap", add)))
        assert info["version"] == ("1.1" if soap11 else "1.2")
        assert info["code"] == etree.QName(env_ns, "VersionMismatch")

        # Envelope of the other SOAP version.
        other_ns = ENV12 if soap11 else ENV11
        info = fault_info(ask(envelope(other_ns, add)))
        assert info["code"].localname == "VersionMismatch"
        if not soap11:  # SOAP 1.2 Appendix A: a SOAP 1.1 fault with an Upgrade header
            assert info["version"] == "1.1" and info["upgrade"] == [etree.QName(ENV12, "Envelope")]

        # WS-Addressing: wrong Action, duplicate MessageID; unknown operation.
        info = fault_info(ask(envelope(env_ns, add, headers=f"<wsa:Action>{CALC}/Subtract</wsa:Action>")))
        assert info["code"] == sender and "action" in info["reason"]
        info = fault_info(ask(envelope(env_ns, add, mid="urn:a", headers="<wsa:MessageID>urn:b</wsa:MessageID>")))
        assert info["code"] == sender
        info = fault_info(ask(envelope(env_ns, f'<Power xmlns="{CALC}"><a>1</a></Power>')))
        assert info["code"] == sender and "Power" in info["reason"]
        info = fault_info(ask(envelope(env_ns, f'<Add xmlns="{CALC}"><a>x</a><b>2</b></Add>')))
        assert info["code"] == sender

        # The connection is still usable.
        answer = parse_envelope(ask(envelope(env_ns, add)))
        assert body_child(answer).findtext(f"{{{CALC}}}result") == "3"


def test_peer_handshake_rules(peer):
    with pytest.raises(InvalidStatus) as e:
        raw(peer, subprotocols=None)
    assert e.value.response.status_code == 400
    with pytest.raises(InvalidStatus) as e:
        raw(peer, content_type="application/json")
    assert e.value.response.status_code == 415
    with raw(peer, content_type=None) as ws:  # absent: SOAP 1.2
        ws.send(envelope(ENV12, f'<Add xmlns="{CALC}"><a>1</a><b>2</b></Add>'))
        assert etree.QName(parse_envelope(ws.recv(timeout=10))).namespace == ENV12
    event = peer.wait_event(lambda e: e["event"] == "connect")
    assert event["version"] == "1.2" and event["soapContentType"] is None
    # A binary message is refused with 1003.
    with raw(peer) as ws:
        ws.send(b"\x00\x01")
        deadline = time.monotonic() + 10
        with pytest.raises(Exception):
            while time.monotonic() < deadline:
                ws.recv(timeout=deadline - time.monotonic())
        assert ws.close_code == 1003
