"""wss:// — `switchboard serve --tls-cert/--tls-key` with Python's client,
and `switchboard connect wss://` against it (self-signed certificate made
with the openssl command line tool)."""
from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess

import pytest
from websockets.asyncio.client import connect


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make a test certificate (apt-get install openssl)", pytrace=False)
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"),
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return d / "cert.pem", d / "key.pem"


def test_wss_server_with_python_client(start_server, cert):
    cert_file, key_file = cert
    srv = start_server("--tls-cert", cert_file, "--tls-key", key_file)
    ctx = ssl.create_default_context(cafile=str(cert_file))

    async def go():
        async with connect(f"wss://127.0.0.1:{srv.port}/echo", ssl=ctx, open_timeout=10,
                           close_timeout=5, compression=None, max_size=1 << 24) as ws:
            await ws.send("over tls")
            text = await asyncio.wait_for(ws.recv(), 5)
            await ws.send(b"\x00" * 70000)
            data = await asyncio.wait_for(ws.recv(), 5)
            return text, len(data)
    assert asyncio.run(asyncio.wait_for(go(), 30)) == ("over tls", 70000)


def test_wss_client_against_our_server(start_server, start_client, cert):
    cert_file, key_file = cert
    srv = start_server("--tls-cert", cert_file, "--tls-key", key_file)
    proc = start_client(f"wss://127.0.0.1:{srv.port}/echo", "--insecure", stdin=subprocess.PIPE)
    proc.wait_line(lambda l: l.startswith("subprotocol:"), timeout=10)
    proc.proc.stdin.write(b"secure hello\n")
    proc.proc.stdin.flush()
    proc.wait_line(lambda l: l == "secure hello", stream="out", timeout=10)
    proc.proc.stdin.close()
    assert proc.wait(timeout=10) == 0, proc.dump()
    assert any(l.startswith("closed: 1000") for l in proc.err), proc.dump()
