"""HTTP proxy (CONNECT) and Origin checks, against real peers:
our client through a Python CONNECT proxy to a Python `websockets` server,
and the Python client against `switchboard serve --allow-origin`."""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import threading

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import InvalidStatus

from conftest import STARTUP_TIMEOUT, Proc, free_port, switchboard_bin


class ConnectProxy:
    """A minimal HTTP proxy that only tunnels CONNECT, and records what it tunnelled."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse
        self.tunnels: list[str] = []
        self.authorizations: list[str] = []
        self.port = free_port()

    async def handle(self, reader, writer):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode().split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        self.authorizations += [line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("proxy-authorization:")]
        if method != "CONNECT" or self.refuse:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        self.tunnels.append(target)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def run_client(args, timeout=20.0):
    proc = await asyncio.create_subprocess_exec(*args, stdin=subprocess.DEVNULL,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("refuse", [False, True])
def test_client_through_connect_proxy(refuse):
    from conftest import switchboard_bin

    async def main():
        received = []

        async def handler(ws):
            await ws.send("through the proxy")
            received.append(await ws.recv())
            await ws.close(4002, "proxied")

        proxy = ConnectProxy(refuse=refuse)
        ws_port = free_port()
        async with serve(handler, "127.0.0.1", ws_port):
            proxy_server = await asyncio.start_server(proxy.handle, "127.0.0.1", proxy.port)
            async with proxy_server:
                rc, _, err = await run_client([switchboard_bin(), "connect", "--echo", "--proxy", f"127.0.0.1:{proxy.port}",
                                               f"ws://127.0.0.1:{ws_port}/"])
        return rc, err, received, proxy.tunnels

    rc, err, received, tunnels = asyncio.run(main())
    if refuse:
        assert rc == 1, err
        assert "error:" in err and "403" in err, err
        assert tunnels == []
    else:
        assert rc == 0, err
        assert tunnels == [f"127.0.0.1:{tunnels[0].rsplit(':', 1)[1]}"]
        assert received == ["through the proxy"]
        assert "closed: 4002 proxied" in err


@pytest.mark.parametrize("no_proxy", ["", "example.com,127.0.0.1"])
def test_client_takes_the_proxy_from_the_environment(no_proxy):
    """`connect --proxy-from-env`: http_proxy (with credentials) is used unless no_proxy names the host."""
    from conftest import switchboard_bin

    async def main():
        async def handler(ws):
            await ws.send("hello")
            await ws.recv()
            await ws.close(4003, "done")

        proxy = ConnectProxy()
        ws_port = free_port()
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(http_proxy=f"http://ann:s%40cret@127.0.0.1:{proxy.port}", HTTPS_PROXY="http://127.0.0.1:1", no_proxy=no_proxy)
        async with serve(handler, "127.0.0.1", ws_port):
            proxy_server = await asyncio.start_server(proxy.handle, "127.0.0.1", proxy.port)
            async with proxy_server:
                proc = await asyncio.create_subprocess_exec(
                    switchboard_bin(), "connect", "--echo", "--proxy-from-env", f"ws://127.0.0.1:{ws_port}/",
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                _, err = await asyncio.wait_for(proc.communicate(), 20)
        return proc.returncode, err.decode(), proxy.tunnels, proxy.authorizations

    rc, err, tunnels, authorizations = asyncio.run(main())
    assert rc == 0, err
    assert "closed: 4003 done" in err
    if no_proxy:
        assert tunnels == []
    else:
        assert len(tunnels) == 1
        assert authorizations == ["Basic " + base64.b64encode(b"ann:s@cret").decode()]


def test_origin_allow_list(start_server):
    srv = start_server("--allow-origin", "https://good.example")

    async def main():
        async with connect(srv.url, origin="https://good.example") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(srv.url, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        # No Origin at all: not a browser, allowed (see OriginPolicy.allow).
        async with connect(srv.url) as ws:
            await ws.send("no origin")
            assert await ws.recv() == "no origin"

    asyncio.run(asyncio.wait_for(main(), 30))


# --- wss through the proxy: whose name does the certificate have to carry? ----

def make_ca_and_server_cert(directory, subject_alt_name):
    """A CA, and a server certificate it signed whose only names are `subject_alt_name`."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make test certificates (apt-get install openssl)", pytrace=False)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    run("req", "-x509", *ec, "-days", "2", "-subj", "/CN=Switchboard test CA", "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", *ec, "-subj", "/CN=switchboard test server", "-keyout", "server.key", "-out", "server.csr")
    (directory / "ext.cnf").write_text(f"subjectAltName={subject_alt_name}\nbasicConstraints=CA:FALSE\n"
                                        "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-out", "server.pem", "-extfile", "ext.cnf")
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.mark.parametrize("url_host, server_host, subject_alt_name, accepted", [
    # The proxy is at 127.0.0.1. With the server at ::1, the certificate must name ::1, not the proxy.
    ("[::1]", "::1", "IP:::1", True),
    ("[::1]", "::1", "IP:127.0.0.1", False),
    # By name (localhost is 127.0.0.1 here, like the proxy): the name decides, an IP entry does not.
    ("localhost", "127.0.0.1", "DNS:localhost", True),
    ("localhost", "127.0.0.1", "DNS:other.example, IP:127.0.0.1", False),
    ("localhost", "127.0.0.1", "DNS:*.localhost", False),   # a wildcard does not cover the bare name
])
def test_wss_through_proxy_checks_the_servers_name(tmp_path, url_host, server_host, subject_alt_name, accepted):
    ca, cert, key = make_ca_and_server_cert(tmp_path, subject_alt_name)
    port = free_port()
    server = Proc([switchboard_bin(), "serve", "--host", server_host, "--port", port, "--tls-cert", cert, "--tls-key", key,
                   "--ping-interval", "0"])
    try:
        server.wait_line(lambda l: "listening on" in l, timeout=STARTUP_TIMEOUT)

        async def main():
            proxy = ConnectProxy()
            proxy_server = await asyncio.start_server(proxy.handle, "127.0.0.1", proxy.port)
            async with proxy_server:
                client = await asyncio.create_subprocess_exec(
                    switchboard_bin(), "connect", "--proxy", f"127.0.0.1:{proxy.port}", "--ca-file", str(ca),
                    f"wss://{url_host}:{port}/echo",
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                out, err = await asyncio.wait_for(client.communicate(b"hello through the tunnel\n"), 30)
            return client.returncode, out.decode(), err.decode(), proxy.tunnels

        rc, out, err, tunnels = asyncio.run(main())
        assert tunnels == [f"{url_host}:{port}"], err
        if accepted:
            assert rc == 0, err
            assert "hello through the tunnel" in out, err
        else:
            assert rc == 1, err
            assert "does not name" in err, err
            assert "hello" not in out
    finally:
        server.stop()
