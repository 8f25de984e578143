"""Shared fixtures for the interop tests against Python `websockets`.

The binary under test is $SWITCHBOARD_BIN (default: .build/debug/switchboard
relative to the repository root). Every test starts its own subprocess on a
free 127.0.0.1 port; every wait is bounded and every subprocess is killed in
teardown, so a misbehaving binary fails a test instead of hanging the run.
"""
from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = float(os.environ.get("SWITCHBOARD_STARTUP_TIMEOUT", "30"))
DEFAULT_TEST_TIMEOUT = 90  # seconds, per test (pytest-timeout)


def pytest_collection_modifyitems(config, items):
    # A hard upper bound on every test, whatever happens inside it.
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TEST_TIMEOUT))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # CPython 3.11.7 can raise "SystemError: AST constructor recursion depth
    # mismatch" when a finalizer (a dead event loop, transport or pipe left by
    # a failed asyncio test) runs inside the ast.parse that pytest uses to
    # format the failure: collect that garbage first.
    if call.excinfo is not None:
        gc.collect()
    yield


def switchboard_bin() -> str:
    path = Path(os.environ.get("SWITCHBOARD_BIN", ".build/debug/switchboard"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"switchboard binary not found at {path} (build it or set SWITCHBOARD_BIN)", pytrace=False)
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A subprocess whose stdout/stderr are collected line by line in threads."""

    def __init__(self, args, stdin=subprocess.DEVNULL, env=None):
        self.args = [str(a) for a in args]
        self.proc = subprocess.Popen(
            self.args,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=REPO_ROOT,
        )
        self._cond = threading.Condition()
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, sink):
        for raw in iter(stream.readline, b""):
            with self._cond:
                sink.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pred, stream="err", timeout=10.0) -> str:
        """Wait until a line of stdout/stderr satisfies pred; return it."""
        sink = self.err if stream == "err" else self.out
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in sink:
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for a line on std{stream} of {self.args}\n"
                        f"exit={self.proc.poll()}\n{self.dump()}"
                    )
                if self.proc.poll() is not None and all(not t.is_alive() for t in self._threads):
                    # process gone and output drained: no new line will come
                    for line in sink:
                        if pred(line):
                            return line
                    raise AssertionError(
                        f"{self.args} exited with {self.proc.returncode} before the expected line\n{self.dump()}"
                    )
                self._cond.wait(min(left, 0.2))

    def wait(self, timeout=15.0) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.args} did not exit within {timeout}s\n{self.dump()}") from None
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def stop(self):
        """TERM, then KILL: used in teardown so nothing outlives its test."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=2)

    def dump(self) -> str:
        return "--- stdout ---\n%s\n--- stderr ---\n%s" % ("\n".join(self.out[-40:]), "\n".join(self.err[-40:]))


class Server:
    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.base = f"ws://127.0.0.1:{port}"
        self.url = f"{self.base}/echo"
        self.http = f"http://127.0.0.1:{port}"


@pytest.fixture
def start_server():
    """start_server(*extra_args) -> Server running `switchboard serve` on a free port."""
    started: list[Proc] = []

    def start(*extra) -> Server:
        port = free_port()
        proc = Proc([switchboard_bin(), "serve", "--host", "127.0.0.1", "--port", port, *extra])
        started.append(proc)
        proc.wait_line(lambda l: "listening on" in l, timeout=STARTUP_TIMEOUT)
        return Server(proc, port)

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def server(start_server) -> Server:
    return start_server()


@pytest.fixture
def start_client():
    """start_client(url, *extra_args, stdin=...) -> Proc running `switchboard connect`."""
    started: list[Proc] = []

    def start(url, *extra, stdin=subprocess.DEVNULL) -> Proc:
        proc = Proc([switchboard_bin(), "connect", url, *extra], stdin=stdin)
        started.append(proc)
        return proc

    yield start
    for p in started:
        p.stop()
