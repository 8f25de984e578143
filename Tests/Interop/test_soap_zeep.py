"""SOAP-over-WebSocket ([MS-SWSB]) server interop: zeep, over
soap_ws_transport.py, against the calculator service of `switchboard serve`
(ws://127.0.0.1:P/soap, WSDL at http://127.0.0.1:P/soap?wsdl, loaded
unmodified), on its SOAP 1.2 and SOAP 1.1 ports; and raw websockets + lxml
for what zeep cannot show (several requests in flight on one socket,
mustUnderstand, VersionMismatch)."""
from __future__ import annotations

import urllib.request
import uuid

import pytest
import zeep
from lxml import etree
from websockets.sync.client import connect
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin
from zeep.wsa import WsAddressingPlugin

from soap_ws_transport import (CONTENT_TYPE, ENV11, ENV12, WSA, SoapWebSocketTransport, action, body_child,
                               fault_info, parse_envelope, relates_to, wsdl_url)

CALC = "urn:example:calc"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD = "http://www.w3.org/2001/XMLSchema"
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)

PORTS = pytest.mark.parametrize("port_name", ["CalculatorSoap12", "CalculatorSoap11"])
VERSIONS = pytest.mark.parametrize("soap11", [False, True], ids=["soap12", "soap11"])
OPERATIONS = {
    "Add": (["a", "b"], ["result"]),
    "Subtract": (["a", "b"], ["result"]),
    "Multiply": (["a", "b"], ["result"]),
    "Divide": (["a", "b"], ["result"]),
    "Subscribe": (["count", "intervalMs"], ["accepted"]),
}


def soap_url(server) -> str:
    return f"{server.base}/soap"


@pytest.fixture
def transport():
    with SoapWebSocketTransport(timeout=10, operation_timeout=10, open_timeout=10) as t:
        yield t


def bind(server, transport, port_name, plugins=()):
    client = zeep.Client(wsdl_url(soap_url(server)), transport=transport, plugins=list(plugins))
    return client, client.bind("CalculatorService", port_name)


def is_soap12(port_name) -> bool:
    return port_name.endswith("12")


def assert_sender(fault: Fault, transport, port_name):
    """zeep puts the code's text (with its prefix) in Fault.code: resolve it
    from the answer itself."""
    info = fault_info(transport.last_answer)
    if is_soap12(port_name):
        assert info["code"] == etree.QName(ENV12, "Sender"), transport.last_answer
        assert fault.code.split(":")[-1] == "Sender"
    else:
        assert info["code"] == etree.QName(ENV11, "Client"), transport.last_answer
        assert fault.code.split(":")[-1] == "Client"
    return info


# --- the WSDL ------------------------------------------------------------------------------

def test_wsdl_document(server):
    with urllib.request.urlopen(wsdl_url(soap_url(server)), timeout=10) as r:
        assert r.status == 200
        doc = etree.fromstring(r.read())
    ns = {"w": WSDL, "s11": WSDL_SOAP11, "s12": WSDL_SOAP12, "xsd": XSD}
    assert doc.tag == f"{{{WSDL}}}definitions"
    assert doc.get("targetNamespace") == CALC
    schema = doc.find("w:types/xsd:schema", ns)
    assert schema.get("targetNamespace") == CALC and schema.get("elementFormDefault") == "qualified"
    elements = {e.get("name"): e for e in schema.findall("xsd:element", ns)}
    for op, (ins, outs) in OPERATIONS.items():
        for name, fields in ((op, ins), (op + "Response", outs)):
            assert name in elements, f"no element {name}"
            declared = {f.get("name"): f.get("type") for f in elements[name].iter(f"{{{XSD}}}element")
                        if f.get("name") != name}
            assert set(declared) == set(fields), (name, declared)
            for t in declared.values():  # xsd:long, whatever the prefix
                prefix, _, local = t.rpartition(":")
                assert (elements[name].nsmap.get(prefix or None), local) == (XSD, "long"), (name, t)

    service = doc.find("w:service[@name='CalculatorService']", ns)
    ports = {p.get("name"): p for p in service.findall("w:port", ns)}
    assert set(ports) == {"CalculatorSoap12", "CalculatorSoap11"}
    assert ports["CalculatorSoap12"].find("s12:address", ns).get("location") == soap_url(server)
    assert ports["CalculatorSoap11"].find("s11:address", ns).get("location") == soap_url(server)
    for port_name, soap_ns in (("CalculatorSoap12", WSDL_SOAP12), ("CalculatorSoap11", WSDL_SOAP11)):
        binding_name = ports[port_name].get("binding").rpartition(":")[2]
        binding = doc.find(f"w:binding[@name='{binding_name}']", ns)
        soap_binding = binding.find(f"{{{soap_ns}}}binding")
        assert soap_binding is not None, f"{binding_name}: no SOAP {port_name[-2:]} binding"
        assert soap_binding.get("style", "document") == "document"
        for op in OPERATIONS:
            operation = binding.find(f"w:operation[@name='{op}']", ns)
            assert operation.find(f"{{{soap_ns}}}operation").get("soapAction") == f"{CALC}/{op}"
            for direction in ("input", "output"):
                assert operation.find(f"w:{direction}/{{{soap_ns}}}body", ns).get("use") == "literal"


def test_zeep_loads_both_ports(server, transport):
    client = zeep.Client(wsdl_url(soap_url(server)), transport=transport)
    ports = client.wsdl.services["CalculatorService"].ports
    assert set(ports) == {"CalculatorSoap12", "CalculatorSoap11"}
    assert type(ports["CalculatorSoap12"].binding).__name__.endswith("Soap12Binding")
    assert type(ports["CalculatorSoap11"].binding).__name__.endswith("Soap11Binding")
    for port in ports.values():
        assert port.binding_options["address"] == soap_url(server)


# --- zeep calls ----------------------------------------------------------------------------

@PORTS
def test_arithmetic(server, transport, port_name):
    _, service = bind(server, transport, port_name)
    assert service.Add(a=2, b=3) == 5
    assert service.Add(a=INT64_MAX, b=INT64_MIN) == -1
    assert service.Subtract(a=2, b=5) == -3
    assert service.Multiply(a=-4, b=6) == -24
    assert service.Multiply(a=1 << 31, b=1 << 31) == 1 << 62
    assert service.Divide(a=7, b=2) == 3
    assert service.Divide(a=-7, b=2) == -3  # truncating
    assert service.Divide(a=7, b=-2) == -3
    assert service.Divide(a=INT64_MIN, b=1) == INT64_MIN


@PORTS
def test_divide_by_zero_fault(server, transport, port_name):
    _, service = bind(server, transport, port_name)
    with pytest.raises(Fault) as e:
        service.Divide(a=1, b=0)
    assert e.value.message == "division by zero"
    info = assert_sender(e.value, transport, port_name)
    if is_soap12(port_name):
        assert e.value.subcodes == [etree.QName(CALC, "DivisionByZero")]
        assert info["lang"], "env:Text needs xml:lang"
    else:
        assert not e.value.subcodes
    assert service.Add(a=1, b=1) == 2  # the connection is still good


@PORTS
@pytest.mark.parametrize("op,a,b", [("Add", INT64_MAX, 1), ("Add", INT64_MIN, -1), ("Subtract", INT64_MIN, 1),
                                    ("Subtract", INT64_MAX, -1), ("Multiply", INT64_MAX, 2),
                                    ("Multiply", INT64_MIN, -1)])
def test_overflow_fault(server, transport, port_name, op, a, b):
    _, service = bind(server, transport, port_name)
    with pytest.raises(Fault) as e:
        getattr(service, op)(a=a, b=b)
    assert "overflow" in e.value.message
    assert_sender(e.value, transport, port_name)


@PORTS
def test_subscribe_then_ticks(server, transport, port_name):
    _, service = bind(server, transport, port_name)
    assert service.Subscribe(count=3, intervalMs=20) == 3
    pushes = [parse_envelope(p) for p in transport.wait_pushes(3, timeout=10)]
    env_ns = ENV12 if is_soap12(port_name) else ENV11
    for n, push in enumerate(pushes, 1):
        assert etree.QName(push).namespace == env_ns
        assert action(push) == f"{CALC}/Tick"
        tick = body_child(push)
        assert tick.tag == f"{{{CALC}}}Tick"
        assert tick.findtext(f"{{{CALC}}}n") == str(n)
    assert service.Add(a=1, b=2) == 3


@PORTS
def test_ws_addressing_relates_to(server, transport, port_name):
    history = HistoryPlugin()
    client = zeep.Client(wsdl_url(soap_url(server)), transport=transport)
    binding = client.wsdl.services["CalculatorService"].ports[port_name].binding
    # With wsam:Action/wsaw:Action in the WSDL zeep adds the WS-Addressing
    # headers by itself (zeep.wsdl.bindings.soap.SoapBinding._create), and a
    # second WsAddressingPlugin would add a second set.
    plugins = [history] if binding.get("Add").abstract.wsa_action else [WsAddressingPlugin(), history]
    client = zeep.Client(wsdl_url(soap_url(server)), transport=transport, plugins=plugins)
    service = client.bind("CalculatorService", port_name)

    assert service.Add(a=20, b=22) == 42
    sent = history.last_sent["envelope"]
    ids = sent.findall(f".//{{{WSA}}}MessageID")
    assert len(ids) == 1
    answer = parse_envelope(transport.last_answer)
    assert relates_to(answer) == ids[0].text
    assert action(answer) == f"{CALC}/AddResponse"

    with pytest.raises(Fault):
        service.Divide(a=1, b=0)
    sent = history.last_sent["envelope"]
    assert relates_to(parse_envelope(transport.last_answer)) == sent.find(f".//{{{WSA}}}MessageID").text


# --- raw websockets + lxml -----------------------------------------------------------------

def raw(server, soap11):
    env_ns = ENV11 if soap11 else ENV12
    ws = connect(soap_url(server), subprotocols=["soap"],
                 additional_headers={"soap-content-type": CONTENT_TYPE[env_ns]},
                 open_timeout=10, close_timeout=5, proxy=None, compression=None, legacy=True)
    return ws, env_ns


def envelope(env_ns, body, mid=None, headers="", action_uri=None):
    wsa = ""
    if action_uri:
        wsa += f"<wsa:Action>{action_uri}</wsa:Action>"
    if mid:
        wsa += f"<wsa:MessageID>{mid}</wsa:MessageID>"
    return (f'<e:Envelope xmlns:e="{env_ns}" xmlns:wsa="{WSA}"><e:Header>{wsa}{headers}</e:Header>'
            f'<e:Body>{body}</e:Body></e:Envelope>')


def calc(op, **fields):
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return f'<{op} xmlns="{CALC}">{inner}</{op}>'


@VERSIONS
def test_raw_requests_in_flight_matched_by_relates_to(server, soap11):
    ws, env_ns = raw(server, soap11)
    with ws:
        assert ws.subprotocol == "soap"
        sent = {
            f"urn:uuid:{uuid.uuid4()}": ("Add", calc("Add", a=2, b=3), "5"),
            f"urn:uuid:{uuid.uuid4()}": ("Multiply", calc("Multiply", a=6, b=7), "42"),
            f"urn:uuid:{uuid.uuid4()}": ("Divide", calc("Divide", a=1, b=0), None),
        }
        for mid, (op, body, _) in sent.items():  # back to back, before reading anything
            ws.send(envelope(env_ns, body, mid=mid, action_uri=f"{CALC}/{op}"))
        answers = {}
        while len(answers) < len(sent):
            answer = parse_envelope(ws.recv(timeout=10))
            rel = relates_to(answer)
            assert rel in sent and rel not in answers, etree.tostring(answer)
            answers[rel] = answer
    for mid, (op, _, expected) in sent.items():
        answer = answers[mid]
        assert etree.QName(answer).namespace == env_ns
        if expected is None:
            info = fault_info(etree.tostring(answer))
            assert info["code"] == etree.QName(env_ns, "Client" if soap11 else "Sender")
            assert info["reason"] == "division by zero"
        else:
            assert action(answer) == f"{CALC}/{op}Response"
            child = body_child(answer)
            assert child.tag == f"{{{CALC}}}{op}Response"
            assert child.findtext(f"{{{CALC}}}result") == expected


@VERSIONS
def test_raw_must_understand(server, soap11):
    ws, env_ns = raw(server, soap11)
    block = f'<x:Secret xmlns:x="urn:x" e:mustUnderstand="{"1" if soap11 else "true"}">?</x:Secret>'
    with ws:
        mid = f"urn:uuid:{uuid.uuid4()}"
        ws.send(envelope(env_ns, calc("Add", a=1, b=2), mid=mid, headers=block))
        answer = ws.recv(timeout=10)
        info = fault_info(answer)
        assert info is not None, answer
        assert info["code"] == etree.QName(env_ns, "MustUnderstand")
        if not soap11:
            assert info["not_understood"] == [etree.QName("urn:x", "Secret")]
        # The same block, not mandatory: processed normally.
        ws.send(envelope(env_ns, calc("Add", a=1, b=2), headers='<x:Secret xmlns:x="urn:x">?</x:Secret>'))
        answer = parse_envelope(ws.recv(timeout=10))
        assert body_child(answer).findtext(f"{{{CALC}}}result") == "3"


@VERSIONS
@pytest.mark.parametrize("wrong", ["urn:not-soap", "other-version"])
def test_raw_version_mismatch(server, soap11, wrong):
    ws, env_ns = raw(server, soap11)
    if wrong == "other-version":
        wrong = ENV12 if soap11 else ENV11
    with ws:
        ws.send(envelope(wrong, calc("Add", a=1, b=2)))
        answer = ws.recv(timeout=10)
    info = fault_info(answer)
    assert info is not None, answer
    # Either SOAP version may carry it (SOAP 1.2 Appendix A answers a SOAP 1.1
    # envelope with a SOAP 1.1 fault); the code is that envelope's VersionMismatch.
    answer_ns = ENV12 if info["version"] == "1.2" else ENV11
    assert info["code"] == etree.QName(answer_ns, "VersionMismatch"), answer
