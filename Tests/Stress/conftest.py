"""Fixtures of the load-and-abuse suite (issue 17).

Every case starts its own `switchboard serve` on a free 127.0.0.1 port (the
start_server fixture of Tests/Interop/conftest.py, loaded by path, so the
binary is $SWITCHBOARD_BIN as there), and wraps its abuse in `case.measure()`:

    with stress.measure("expected behaviour") as m:
        ... abuse, then close the abusive connection ...
        m.observed = "what happened"
    m.assert_healthy(peak_growth_mib=64, final_growth_mib=64)

measure() reads the server's VmRSS before, samples it every 50 ms for the peak,
runs a well-behaved `websockets` client (stress.Probe) on /echo throughout,
and after the block lets the server settle, reads the final VmRSS and makes
one more round trip on a fresh connection. Each case gives one row of the
table printed at the end of the session and written to $STRESS_TABLE
(default: <pytest basetemp>/stress-table.md).
"""
from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from stress import PROBE_TIMEOUT, Probe, RssSampler, echo_once, mib, rss_kib

_spec = importlib.util.spec_from_file_location(
    "interop_conftest", Path(__file__).resolve().parents[1] / "Interop" / "conftest.py")
interop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(interop)
start_server = interop.start_server  # the fixture, re-exported: same binary lookup, same teardown
# Tests/Interop's modules do `from conftest import ...`; in one pytest run over both directories
# that name can resolve to this file, so it offers the same names.
REPO_ROOT, STARTUP_TIMEOUT, Proc, free_port, switchboard_bin = (
    interop.REPO_ROOT, interop.STARTUP_TIMEOUT, interop.Proc, interop.free_port, interop.switchboard_bin)

DEFAULT_TEST_TIMEOUT = 60  # seconds per case (pytest-timeout), unless the case says otherwise
SETTLE = 1.0               # seconds between the end of the abuse and the final RSS reading

ROWS: list[dict] = []
COLUMNS = ["case", "expected", "observed", "RSS before", "peak", "final (MiB)", "good client", "result"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TEST_TIMEOUT))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


class Measure:
    def __init__(self, case: "Case", expected: str, settle: float, probe: bool):
        self.case = case
        self.expected = expected
        self.settle = settle
        self.use_probe = probe
        self.observed = ""
        self.before = self.peak = self.final = None
        self.probe: Probe | None = None
        self.after_ok: bool | None = None
        self.after_latency: float | None = None
        self.after_error = ""
        self.alive_after: bool | None = None
        self.sampler: RssSampler | None = None
        self.skip_after = False

    @property
    def pid(self):
        return self.case.server.proc.proc.pid

    def rss(self) -> int | None:
        """VmRSS now (KiB), counted into the peak."""
        return self.sampler.sample() if self.sampler else rss_kib(self.pid)

    def __enter__(self):
        self.before = rss_kib(self.pid)
        self.sampler = RssSampler(self.pid)
        self.sampler.start()
        if self.use_probe:
            self.probe = Probe(self.case.server.port)
            self.probe.start()
            self.probe.wait_first(PROBE_TIMEOUT + 1)
        return self

    def end_abuse(self):
        """Stops the well-behaved client of the abuse phase (at the latest when the block ends)."""
        if self.probe is not None and self.probe.is_alive():
            self.probe.wait_first(PROBE_TIMEOUT + 1)
            self.probe.stop()

    def __exit__(self, exc_type, exc, tb):
        try:
            self.end_abuse()
            if exc is not None and not self.observed:
                self.observed = f"{exc_type.__name__}: {exc}"[:120]
            if not self.skip_after:
                time.sleep(self.settle)
            self.sampler.sample()
            self.final = rss_kib(self.pid)
            self.sampler.stop()
            self.peak = self.sampler.peak
            proc = self.case.server.proc.proc
            self.alive_after = proc.poll() is None
            if self.alive_after and not self.skip_after:
                try:
                    self.after_latency = echo_once(self.case.server.port)
                    self.after_ok = True
                except Exception as e:  # noqa: BLE001
                    self.after_ok = False
                    self.after_error = f"{type(e).__name__}: {e}"[:160]
        finally:
            self.case.measures.append(self)
        return False

    # -- verdicts ---------------------------------------------------------------------

    def good_summary(self) -> str:
        parts = []
        if self.probe is not None:
            p = self.probe
            parts.append(f"during {p.ok} ok/{p.failed} failed, max {p.max_latency * 1000:.0f} ms")
        if self.after_ok is not None:
            parts.append("after ok" if self.after_ok else "after FAILED")
        elif self.alive_after is False:
            parts.append("server gone")
        return "; ".join(parts) or "-"

    def growth_mib(self, which: str) -> float:
        v = self.peak if which == "peak" else self.final
        return ((v or 0) - (self.before or 0)) / 1024

    def assert_alive(self):
        assert self.alive_after, (f"the server died (exit {self.case.server.proc.proc.returncode})\n"
                                  f"{self.case.server.proc.dump()}")

    def assert_served(self, max_latency: float | None = None, after: bool = True):
        if self.probe is not None:
            p = self.probe
            assert p.ok >= 1 and p.failed == 0, \
                f"well-behaved client not served during the abuse: {p.ok} ok, {p.failed} failed: {p.errors[:3]}"
            if max_latency is not None:
                assert p.max_latency <= max_latency, \
                    f"well-behaved client's echo took {p.max_latency:.2f} s (bound {max_latency} s)"
        if after:
            assert self.after_ok, f"well-behaved client not served after the abuse: {self.after_error}"

    def assert_rss(self, peak_growth_mib: float | None = None, final_growth_mib: float | None = None):
        if peak_growth_mib is not None:
            assert self.growth_mib("peak") < peak_growth_mib, \
                (f"peak RSS grew {self.growth_mib('peak'):.1f} MiB ({mib(self.before)} -> {mib(self.peak)}), "
                 f"bound {peak_growth_mib} MiB")
        if final_growth_mib is not None:
            assert self.growth_mib("final") < final_growth_mib, \
                (f"final RSS grew {self.growth_mib('final'):.1f} MiB ({mib(self.before)} -> {mib(self.final)}), "
                 f"bound {final_growth_mib} MiB")

    def assert_healthy(self, peak_growth_mib: float | None = 64, final_growth_mib: float | None = 64,
                       max_latency: float | None = None):
        """The server lives, the well-behaved client was served, RSS within the bounds."""
        self.assert_alive()
        self.assert_served(max_latency)
        self.assert_rss(peak_growth_mib, final_growth_mib)


class Case:
    def __init__(self, name: str, start):
        self.name = name
        self._start = start
        self.server = None
        self.measures: list[Measure] = []

    def start(self, *extra):
        """`switchboard serve --host 127.0.0.1 --port <free> *extra`."""
        self.server = self._start(*extra)
        return self.server

    def measure(self, expected: str, settle: float = SETTLE, probe: bool = True) -> Measure:
        assert self.server is not None, "start() the server first"
        return Measure(self, expected, settle, probe)


@pytest.fixture
def stress(request, start_server):
    case = Case(request.node.name.removeprefix("test_"), start_server)
    yield case
    rep = getattr(request.node, "rep_call", None)
    result = "pass" if rep is not None and rep.passed else ("FAIL" if rep is not None else "error")
    for m in case.measures:
        row = {"case": case.name, "expected": m.expected, "observed": m.observed or "-",
               "RSS before": mib(m.before), "peak": mib(m.peak), "final (MiB)": mib(m.final),
               "good client": m.good_summary(), "result": result}
        ROWS.append(row)
        print(f"\nSTRESS {row['case']}: expected {row['expected']}; observed {row['observed']}; "
              f"rss {row['RSS before']}/{row['peak']}/{row['final (MiB)']} MiB; good client {row['good client']}; "
              f"{result}")


def _table() -> str:
    def cell(v):
        return str(v).replace("|", "/").replace("\n", " ")
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r[c]) for c in COLUMNS) + " |" for r in ROWS]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session", autouse=True)
def _stress_table(tmp_path_factory, request):
    t0 = time.monotonic()
    yield
    if not ROWS:
        return
    path = Path(os.environ.get("STRESS_TABLE") or tmp_path_factory.getbasetemp() / "stress-table.md")
    binary = os.environ.get("SWITCHBOARD_BIN", ".build/debug/switchboard")
    header = (f"Switchboard stress suite, {time.strftime('%Y-%m-%d %H:%M:%S')}, binary {binary}, "
              f"{time.monotonic() - t0:.0f} s\n\n")
    path.write_text(header + _table())
    request.config._stress_table = (path, header + _table())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    found = getattr(config, "_stress_table", None)
    if found is None:
        return
    path, text = found
    terminalreporter.section("stress table")
    terminalreporter.write(text)
    terminalreporter.write_line(f"(written to {path})")
