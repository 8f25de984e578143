"""What the browser tests share: the binary under test, `switchboard serve` on a free port,
and headless Chromium driven by selenium (Debian chromium + chromium-driver)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO_ROOT = Path(__file__).resolve().parents[2]


def built_binary(env: str, default: str, hint: str) -> str:
    """The binary $env names, else `default` (relative to the repository); the test fails with `hint` if absent."""
    path = Path(os.environ.get(env, default))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path.name} not found at {path} ({hint}, or set {env})", pytrace=False)
    return str(path)


def switchboard_bin() -> str:
    return built_binary("SWITCHBOARD_BIN", ".build/debug/switchboard", "swift build")


def find_tool(env: str, *names: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"{'/'.join(names)} not found: apt-get install chromium chromium-driver (or set {env})", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """A server binary on a free port (`--port PORT` is appended to `args`); ready once it
    prints `ready` (default `listening on`); its output kept for failure messages."""

    def __init__(self, args: list[str], name: str, ready: str = "listening on"):
        self.port = free_port()
        self.name = name
        self.ready_line = ready
        self.proc = subprocess.Popen(
            [*args, "--port", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()
        if not self.ready.wait(30) or self.proc.poll() is not None:
            self.stop()
            pytest.fail(f"{name} did not start within 30 s\n{self.output()}", pytrace=False)

    def _pump(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            if self.ready_line in line:
                self.ready.set()
        self.ready.set()

    def output(self) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.lines[-40:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Serve(AppProcess):
    """`switchboard serve` on a free port."""

    def __init__(self, *extra: str):
        super().__init__([switchboard_bin(), "serve", "--host", "127.0.0.1", *extra], "switchboard serve")


@pytest.fixture
def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = find_tool("CHROMIUM", "chromium", "chromium-browser")
    for arg in ("--headless=new", "--no-sandbox",  # --no-sandbox: CI runs as root
                "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--window-size=800,600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium then never tries to download one.
    service = Service(executable_path=find_tool("CHROMEDRIVER", "chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def browser_console(driver) -> str:
    try:
        return "\n".join(f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser"))
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        return f"(no browser log: {exc})"
