"""A real browser against `switchboard serve`: headless Chromium, driven by selenium.

Chromium loads http://127.0.0.1:PORT/test, the page that `switchboard serve`
itself serves (Examples/BrowserTestPage.swift; a page from elsewhere, or a
data: URL, may not be let to reach loopback). Its script connects to
ws://127.0.0.1:PORT/echo with the browser's own permessage-deflate offer,
checks `ws.extensions`, exchanges text and binary messages of 10 B, 1 KiB,
64 KiB and 1 MiB (compressible and incompressible) and compares every echo byte
for byte. It writes a JSON verdict into <pre id="result"> and sets
document.title to PASS or FAIL; this test reads both, with bounded waits.

Needs the Debian packages `chromium` and `chromium-driver` (.ci/run installs
them) and selenium (Tests/Browser/requirements.txt). Nothing here is skipped:
a missing browser is a failure. The driver and browser paths can be changed
with CHROMEDRIVER and CHROMIUM.

Run: .venv-interop/bin/python -m pytest Tests/Browser   (scripts/test.sh stage 4)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Serve, browser_console
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

REPO_ROOT = Path(__file__).resolve().parents[2]
# What Chromium offers ("permessage-deflate; client_max_window_bits") answered by
# serve's defaults: PerMessageDeflate.Configuration.peerMaxWindowBits = 12, no
# context-takeover parameters, no server_max_window_bits (not offered).
EXPECTED_EXTENSIONS = "permessage-deflate; client_max_window_bits=12"
CASES = [(kind, size, compressible)
         for size in (10, 1024, 64 * 1024, 1024 * 1024)
         for kind in ("text", "binary")
         for compressible in (True, False)]
PAGE_TIMEOUT = 120  # seconds for the page's whole run (16 echoes, the largest 1 MiB)


@pytest.fixture
def serve():
    server = Serve()
    yield server
    server.stop()


@pytest.mark.timeout(PAGE_TIMEOUT + 90)
def test_chromium_echo_with_permessage_deflate(serve, chromium):
    url = f"http://127.0.0.1:{serve.port}/test"
    chromium.get(url)
    try:
        WebDriverWait(chromium, PAGE_TIMEOUT, poll_frequency=0.25).until(
            lambda d: d.title in ("PASS", "FAIL"))
    except TimeoutException:
        log = chromium.execute_script("return document.getElementById('log') && document.getElementById('log').textContent")
        pytest.fail(f"the page gave no verdict within {PAGE_TIMEOUT} s (title {chromium.title!r})\n"
                    f"page log:\n{log}\nconsole:\n{browser_console(chromium)}\n{serve.output()}", pytrace=False)

    raw = chromium.execute_script("return document.getElementById('result').textContent")
    verdict = json.loads(raw)
    detail = f"verdict: {json.dumps(verdict, indent=1)}\nconsole:\n{browser_console(chromium)}\n{serve.output()}"

    assert verdict["url"] == f"ws://127.0.0.1:{serve.port}/echo", detail
    assert verdict["extensions"] == EXPECTED_EXTENSIONS, detail
    assert verdict["error"] is None, detail
    got = [(c["kind"], c["size"], c["compressible"]) for c in verdict["cases"]]
    assert got == CASES, detail
    failed = [c for c in verdict["cases"] if not c["ok"] or c.get("bytes") != c["size"]]
    assert not failed, detail
    # The server answers with the code only (RFC 6455 §5.5.1 asks for no more); the reason is not checked.
    assert verdict["close"]["code"] == 1000 and verdict["close"]["wasClean"] is True, detail
    assert verdict["ok"] is True and chromium.title == "PASS", detail


@pytest.mark.timeout(120)
def test_page_fails_when_deflate_is_not_negotiated(chromium):
    """The page's deflate check is not vacuous: against `serve --no-deflate` the
    browser's offer is declined, ws.extensions is empty and the page says FAIL."""
    server = Serve("--no-deflate")
    try:
        chromium.get(f"http://127.0.0.1:{server.port}/test")
        WebDriverWait(chromium, 60, poll_frequency=0.25).until(lambda d: d.title in ("PASS", "FAIL"))
        verdict = json.loads(chromium.execute_script("return document.getElementById('result').textContent"))
        assert chromium.title == "FAIL", verdict
        assert verdict["extensions"] == "", verdict
        assert "permessage-deflate not negotiated" in (verdict["error"] or ""), verdict
    finally:
        server.stop()
