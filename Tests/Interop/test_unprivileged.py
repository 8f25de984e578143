"""`switchboard serve` and `switchboard connect` as an ordinary user, not root.

Production servers do not run as root, and CI does. Every other test here runs
the binary as whoever runs pytest; these run it as `nobody` when that is root
(with `setpriv`, which execs the binary itself, so signals reach it), so that
anything that needs a privilege (a socket option such as SO_DEBUG, a file only
root may read) fails here first. Python `websockets` is the peer.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from conftest import STARTUP_TIMEOUT, Proc, free_port, switchboard_bin

NOBODY = 65534


@pytest.fixture
def unprivileged():
    """(command prefix, binary path): the binary copied where `nobody` can run it.

    Into a directory of its own right under /tmp (pytest's tmp_path sits in a
    root-only directory, which `nobody` may not be able to enter).
    """
    if os.geteuid() != 0:
        yield [], switchboard_bin()
        return
    directory = Path(tempfile.mkdtemp(prefix="switchboard-unprivileged-", dir="/tmp"))
    try:
        directory.chmod(0o755)
        binary = directory / "switchboard"
        shutil.copy2(switchboard_bin(), binary)
        binary.chmod(0o755)
        yield ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"], str(binary)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run(coro, timeout=30.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def start_server(prefix, binary):
    port = free_port()
    proc = Proc([*prefix, binary, "serve", "--host", "127.0.0.1", "--port", port, "--ping-interval", "0"])
    proc.wait_line(lambda l: "listening on" in l, timeout=STARTUP_TIMEOUT)
    return proc, port


def test_server_runs_and_echoes_as_an_unprivileged_user(unprivileged):
    prefix, binary = unprivileged
    proc, port = start_server(prefix, binary)
    try:
        async def echo():
            async with connect(f"ws://127.0.0.1:{port}/echo", open_timeout=10, compression=None) as ws:
                await ws.send("as nobody")
                text = await asyncio.wait_for(ws.recv(), 10)
                await ws.send(b"\x00\x01\x02")
                data = await asyncio.wait_for(ws.recv(), 10)
                return text, data
        assert run(echo()) == ("as nobody", b"\x00\x01\x02"), proc.dump()
    finally:
        proc.stop()


def test_client_connects_as_an_unprivileged_user(unprivileged):
    prefix, binary = unprivileged
    server, port = start_server(prefix, binary)
    try:
        client = subprocess.run([*prefix, binary, "connect", f"ws://127.0.0.1:{port}/echo"],
                                input=b"hello from nobody\n", capture_output=True, timeout=30)
        assert client.returncode == 0, client.stderr.decode(errors="replace")
        assert b"hello from nobody" in client.stdout, client.stderr.decode(errors="replace")
    finally:
        server.stop()
