"""A private Prosody instance for the XMPP interop tests (a helper, not a test file).

`ProsodyServer` starts its own `prosody -F` (Debian package `prosody`, 0.12) with a
config it writes into a fresh temporary directory: loopback only, mod_websocket on a
free HTTP port (ws://127.0.0.1:PORT/xmpp-websocket, subprotocol `xmpp`), virtual host
`localhost`, accounts in `internal_hashed` storage (salted SCRAM keys, no plain
passwords), no TLS, no s2s, no offline storage. Data, pidfile and log stay in the temp
dir, which is removed on stop. It works as root (`run_as_root = true`, so neither
prosody nor prosodyctl switches to the `prosody` user) and as any other user.

Config keys that matter (Prosody 0.12.3):
  consider_websocket_secure = true   WebSocket sessions count as encrypted, so
                                     mod_saslauth offers PLAIN and SCRAM without TLS
  c2s_require_encryption = false     the same for the raw c2s port, when enabled
  password_hash = "SHA-1"|"SHA-256"  internal_hashed stores keys for ONE hash, and
                                     only that SCRAM-SHA-* is offered (never both)
  modules_disabled = s2s, offline    no port 5269; a message to an offline user
                                     bounces with service-unavailable at once

Every wait is bounded; a start that fails raises with the tail of Prosody's log.

    with ProsodyServer(users={"alice": "wonderland", "bob": "builder"}) as prosody:
        prosody.url          # ws://127.0.0.1:PORT/xmpp-websocket
        prosody.register("carol", "secret")

As a pytest fixture:

    @pytest.fixture
    def prosody():
        with ProsodyServer(users=USERS) as server:
            yield server

Run `python prosody_server.py` to start one by hand (Ctrl-C stops it).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

STARTUP_TIMEOUT = float(os.environ.get("PROSODY_STARTUP_TIMEOUT", "30"))
COMMAND_TIMEOUT = 30.0  # prosodyctl register, per account
STOP_TIMEOUT = 10.0  # SIGTERM to exit, then SIGKILL


class ProsodyError(RuntimeError):
    """Prosody is missing, did not start, or a prosodyctl command failed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lua_string(value: str) -> str:
    """A Lua string literal (paths, tokens); no newlines expected, but escaped anyway."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def find_tool(env: str, name: str) -> str:
    path = os.environ.get(env) or shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if not path:
        raise ProsodyError(f"{name} not found: apt-get install prosody (or set {env})")
    return path


class ProsodyServer:
    """One Prosody process with its own config, data and log in a temporary directory."""

    def __init__(self, users: dict[str, str] | None = None, *, domain: str = "localhost",
                 password_hash: str = "SHA-1", c2s: bool = False, log_level: str = "debug",
                 stanza_size_limit: int | None = None, extra_modules: tuple[str, ...] = (),
                 extra_config: str = "", startup_timeout: float = STARTUP_TIMEOUT,
                 prepare: Callable[["ProsodyServer"], None] | None = None):
        """`prepare`, if given, runs once in start() after the temp dir and `data_path` exist
        and before any `users` are registered or prosody runs: e.g. to write account files
        straight into `data_path` (scripts/xmpp-bench-prosody.py does, for 1000 accounts)."""
        if password_hash not in ("SHA-1", "SHA-256"):
            raise ValueError("password_hash is SHA-1 or SHA-256")
        self.users = dict(users or {})
        self.domain = domain
        self.password_hash = password_hash
        self.c2s = c2s
        self.log_level = log_level
        self.stanza_size_limit = stanza_size_limit
        self.extra_modules = tuple(extra_modules)
        self.extra_config = extra_config
        self.startup_timeout = startup_timeout
        self.prepare = prepare
        self.prosody = find_tool("PROSODY", "prosody")
        self.prosodyctl = find_tool("PROSODYCTL", "prosodyctl")
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.http_port = 0
        self.c2s_port = 0
        # GET /xmpp-websocket answers this text: proof that the port is ours, not another process's.
        self._token = "switchboard-prosody-" + secrets.token_hex(8)

    # -- paths and URLs -------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}/xmpp-websocket"

    @property
    def config_path(self) -> Path:
        return self.dir / "prosody.cfg.lua"

    @property
    def data_path(self) -> Path:
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        return self.dir / "prosody.log"

    @property
    def console_path(self) -> Path:
        return self.dir / "console.log"

    def jid(self, user: str) -> str:
        return f"{user}@{self.domain}"

    # -- lifecycle ------------------------------------------------------------

    def __enter__(self) -> "ProsodyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "ProsodyServer":
        if self.proc is not None:
            raise ProsodyError("already started")
        self.dir = Path(tempfile.mkdtemp(prefix="switchboard-prosody-"))
        os.chmod(self.dir, 0o700)
        (self.dir / "data").mkdir(mode=0o700)
        (self.dir / "certs").mkdir(mode=0o700)  # empty: no TLS, but no "cannot index" error either
        try:
            if self.prepare is not None:
                self.prepare(self)
            for attempt in range(3):  # a free port can be taken between free_port() and bind
                self.http_port = free_port()
                self.c2s_port = free_port() if self.c2s else 0
                self._write_config()
                for user, password in self.users.items():
                    self.register(user, password)
                if self._launch():
                    return self
            raise ProsodyError(f"prosody did not serve {self.url} within {self.startup_timeout}s\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _write_config(self) -> None:
        d = self.dir
        modules = ["saslauth", "roster", "disco", "ping", "websocket", *self.extra_modules]
        lines = [
            "-- written by Tests/Interop/prosody_server.py; one test run only",
            "run_as_root = true  -- we may be root in CI; never switch to the prosody user",
            f"pidfile = {lua_string(str(d / 'prosody.pid'))}",
            f"data_path = {lua_string(str(self.data_path))}",
            f"certificates = {lua_string(str(d / 'certs'))}",
            f"log = {{ {{ levels = {{ min = {lua_string(self.log_level)} }}, to = \"file\", "
            f"filename = {lua_string(str(self.log_path))} }} }}",
            'interfaces = { "127.0.0.1" }',
            'local_interfaces = { "127.0.0.1" }',
            f"http_ports = {{ {self.http_port} }}",
            'http_interfaces = { "127.0.0.1" }',
            "https_ports = { }",
            f"c2s_ports = {{ {self.c2s_port} }}" if self.c2s else "c2s_ports = { }",
            'c2s_interfaces = { "127.0.0.1" }',
            "s2s_ports = { }",
            f"http_default_host = {lua_string(self.domain)}",
            f"websocket_get_response_text = {lua_string(self._token)}",
            "consider_websocket_secure = true",
            "c2s_require_encryption = false",
            "s2s_require_encryption = false",
            "allow_registration = false",
            'authentication = "internal_hashed"',
            f"password_hash = {lua_string(self.password_hash)}",
            'storage = "internal"',
            "modules_enabled = { " + ", ".join(lua_string(m) for m in modules) + " }",
            'modules_disabled = { "s2s", "s2s_auth_certs", "offline" }',
        ]
        if self.stanza_size_limit is not None:
            lines.append(f"c2s_stanza_size_limit = {int(self.stanza_size_limit)}")
        if self.extra_config:
            lines.append(self.extra_config)
        lines.append(f"VirtualHost {lua_string(self.domain)}")
        self.config_path.write_text("\n".join(lines) + "\n")

    def _launch(self) -> bool:
        """Starts prosody; True once it serves our token, False if the port was not ours."""
        for stale in (self.log_path, self.console_path):  # an earlier attempt's "port in use" must not count
            stale.unlink(missing_ok=True)
        console = open(self.console_path, "ab")
        try:
            self.proc = subprocess.Popen([self.prosody, "-F", "--config", str(self.config_path)],
                                         stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                         cwd=self.dir, start_new_session=True)
        finally:
            console.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProsodyError(f"prosody exited with {self.proc.returncode} during start-up\n{self.log_tail()}")
            answer = self._probe()
            if answer == "ours":
                return True
            if answer == "other" or self._log_says_port_failed():
                self._terminate()
                return False
            time.sleep(0.1)
        self._terminate()
        raise ProsodyError(f"prosody did not serve {self.url} within {self.startup_timeout}s\n{self.log_tail()}")

    def _probe(self) -> str:
        """'ours', 'other' (something else answers on the port) or 'none' (nothing yet)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/xmpp-websocket", timeout=2) as r:
                body = r.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return "other" if e.code != 404 else "none"  # 404 until mod_websocket is mounted
        except OSError:
            return "none"
        return "ours" if self._token in body else "other"

    def _log_says_port_failed(self) -> bool:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return False
        return "Failed to open server port" in text or "Address already in use" in text

    def register(self, user: str, password: str) -> None:
        """Creates (or re-keys) an account; works before start and while running (file storage)."""
        if self.dir is None:
            raise ProsodyError("start() first, or pass users= to the constructor")
        try:
            done = subprocess.run([self.prosodyctl, "--config", str(self.config_path), "register",
                                   user, self.domain, password],
                                  stdin=subprocess.DEVNULL, capture_output=True, cwd=self.dir,
                                  timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ProsodyError(f"prosodyctl register {user} took over {COMMAND_TIMEOUT}s") from None
        if done.returncode != 0:
            out = (done.stdout + done.stderr).decode("utf-8", "replace")
            raise ProsodyError(f"prosodyctl register {user} {self.domain} failed ({done.returncode}):\n{out}")
        self.users[user] = password

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # prosody closes its streams and removes the pidfile
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Stops prosody (TERM, then KILL) and removes the temp dir. Safe to call twice."""
        self._terminate()
        if self.dir is not None and not os.environ.get("PROSODY_KEEP_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- diagnostics ----------------------------------------------------------

    def log_tail(self, lines: int = 60) -> str:
        parts = []
        for path in (self.console_path, self.log_path):
            try:
                text = path.read_text("utf-8", "replace").splitlines()[-lines:]
            except (OSError, TypeError, AttributeError):
                continue
            parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no prosody output)"


if __name__ == "__main__":
    import sys

    with ProsodyServer(users={"alice": "wonderland", "bob": "builder"},
                       password_hash=sys.argv[1] if len(sys.argv) > 1 else "SHA-1") as server:
        print(f"prosody at {server.url}, accounts alice/wonderland bob/builder; dir {server.dir}; Ctrl-C stops",
              flush=True)
        try:
            while server.proc and server.proc.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
