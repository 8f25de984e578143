"""`switchboard connect --subprotocol soap`: envelopes typed on standard input, answers on
standard output; and `switchboard plugins` listing the SOAP module."""
from __future__ import annotations

import subprocess

from lxml import etree

from conftest import switchboard_bin

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
CALC = "urn:example:calc"


def envelope(body: str) -> str:
    return f'<e:Envelope xmlns:e="{ENV12}"><e:Body>{body}</e:Body></e:Envelope>'


def test_connect_sends_typed_envelopes(server):
    lines = "\n".join([
        envelope(f'<Add xmlns="{CALC}"><a>40</a><b>2</b></Add>'),
        envelope(f'<Divide xmlns="{CALC}"><a>1</a><b>0</b></Divide>'),
    ]) + "\n"
    done = subprocess.run([switchboard_bin(), "connect", f"{server.base}/soap", "--subprotocol", "soap"],
                          input=lines, capture_output=True, text=True, timeout=30)
    assert "subprotocol: soap" in done.stderr, done.stderr
    answers = [etree.fromstring(line.encode()) for line in done.stdout.splitlines() if line.strip()]
    assert len(answers) == 2, done.stdout
    ns = {"e": ENV12, "c": CALC}
    assert answers[0].findtext("e:Body/c:AddResponse/c:result", namespaces=ns) == "42"
    fault = answers[1].find("e:Body/e:Fault", ns)
    assert fault is not None and fault.findtext("e:Reason/e:Text", namespaces=ns) == "division by zero"
    # connect sent soap-content-type for SOAP 1.2 itself: the answers are 1.2 envelopes.
    assert all(a.tag == f"{{{ENV12}}}Envelope" for a in answers)


def test_plugins_lists_soap():
    out = subprocess.run([switchboard_bin(), "plugins"], capture_output=True, text=True, timeout=30).stdout
    line = next((l for l in out.splitlines() if l.startswith("soap ")), None)
    assert line is not None, out
    assert "subprotocol" in line and "MS-SWSB" in line and "route /soap" in line and "no DTD" in line
