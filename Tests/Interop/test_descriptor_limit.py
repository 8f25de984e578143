"""`switchboard serve` out of file descriptors: it must not spin, and it must recover.

With no descriptor left, accept() fails with EMFILE and leaves the connection
queued, so the listener is readable again at once; a server that only retries
spins a core on failing accepts and starves its open connections. The server
runs under `prlimit --nofile=64`; 100 clients connect and stay; over the next
two seconds the server must use little CPU, it must still answer the
connections it holds, and once the clients go it must accept again.
"""
from __future__ import annotations

import os
import socket
import time

from conftest import STARTUP_TIMEOUT, Proc, free_port, switchboard_bin

CLIENTS = 100
LIMIT = 64


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port: int, path: str = "/health") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return s.recv(100)


def test_out_of_descriptors_the_server_pauses_instead_of_spinning_and_recovers():
    port = free_port()
    proc = Proc(["prlimit", f"--nofile={LIMIT}:{LIMIT}", "--", switchboard_bin(), "serve", "--host", "127.0.0.1",
                 "--port", port, "--ping-interval", "0", "--log-level", "warning"])
    clients = []
    try:
        proc.wait_line(lambda l: "listening on" in l, timeout=STARTUP_TIMEOUT)
        held = socket.create_connection(("127.0.0.1", port), timeout=10)  # accepted while descriptors are left
        clients.append(held)
        time.sleep(0.2)
        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        proc.wait_line(lambda l: "out of file descriptors" in l, timeout=10)
        before = cpu_seconds(proc.proc.pid)
        time.sleep(2)
        used = (cpu_seconds(proc.proc.pid) - before) / 2
        assert used < 0.3, f"server at {used:.0%} of a core while out of descriptors\n{proc.dump()}"

        # A connection it holds is still served.
        held.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        held.settimeout(10)
        assert held.recv(100).startswith(b"HTTP/1.1 200"), proc.dump()

        for c in clients:
            c.close()
        clients.clear()
        deadline = time.monotonic() + 15
        while True:
            try:
                if http_get(port).startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no answer after the clients left\n{proc.dump()}"
            time.sleep(0.2)
    finally:
        for c in clients:
            c.close()
        proc.stop()
