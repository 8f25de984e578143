#!/usr/bin/env python3
"""Prosody (mod_websocket) as the reference server for `xmpp-bench --url`.

    scripts/xmpp-bench-prosody.py --users 1000 [--hash SHA-256]
    # prints:  URL ws://127.0.0.1:PORT/xmpp-websocket
    swift run -c release xmpp-bench --clients 2,1000 --url ws://127.0.0.1:PORT/xmpp-websocket

Starts a private Prosody 0.12 (Tests/Interop/prosody_server.py: loopback, temp dir, no TLS,
no s2s, no offline storage) whose virtual host `localhost` has the accounts user0 ...
user(N-1) with the password `pw`, as xmpp-bench expects. It prints `URL ws://...` on one
line once Prosody serves it, then runs until SIGINT or SIGTERM, stops Prosody (TERM, then
KILL after 10 s) and removes the temp dir. Progress and timings go to stderr; only the URL
line goes to stdout. Exit status 1 if Prosody fails to start or dies while we wait.

Accounts are not registered with `prosodyctl register` (a Lua start-up per account, far
too slow for 1000): their `internal_hashed` files are written straight into the data
directory before Prosody starts, the way mod_auth_internal_hashed + util/datamanager store
them: `<data>/<host, %xx-encoded>/accounts/<user, %xx-encoded>.dat` holding
`return { stored_key = hex, server_key = hex, salt = string, iteration_count = n };`
with RFC 5802 keys: SaltedPassword = PBKDF2-HMAC-H(pw, salt, i), StoredKey =
H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key");
the salt is used as stored (its bytes; SCRAM sends it base64-encoded). The keys are for
ONE hash, `--hash` (Prosody's `password_hash`): Prosody then offers only that
SCRAM-SHA-* (plus PLAIN), never both. The iteration count is low (64 by default): the
benchmark measures routing, and a client derives the key once per login, 1000 logins per
run. Prosody accepts any count; it never derives keys itself during a SCRAM login (it
logs a "< 4096" warning only when it hashes a password, i.e. for PLAIN logins).

Settings that matter for the benchmark (Prosody 0.12.3, epoll backend):
  log level "warn"           the helper's default "debug" writes every stanza to the log
  network_settings.nagle = false         TCP_NODELAY on every connection, as our server
                                         sets it (Prosody's default keeps Nagle on)
  network_settings.tcp_backlog = 4096    default 128: 1000 clients connecting at once
                                         would overflow the accept queue (SYN retries)
  no mod_limits              the only rate limiter (c2s/s2s read bandwidth): it is not
                             auto-loaded (core/modulemanager.lua) nor in modules_enabled
  c2s_stanza_size_limit, websocket_frame_buffer_limit (2x it), websocket_frame_fragment_limit
                             defaults (256 KiB, 512 KiB, 8) are far above "m" messages
  no connection limit        server_epoll has no max_connections (only server_event
                             had one); the fd limit (ulimit -n) is the limit: checked
  conflict_resolve           default kick_old: the next run's user0/bench replaces a
                             leftover session of the previous run
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import importlib.util
import resource
import signal
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HASHES = {"SHA-1": "sha1", "SHA-256": "sha256"}


def load_prosody_server():
    """Tests/Interop/prosody_server.py, imported by path (Tests/Interop is no package)."""
    path = REPO / "Tests" / "Interop" / "prosody_server.py"
    spec = importlib.util.spec_from_file_location("prosody_server", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["prosody_server"] = module
    spec.loader.exec_module(module)
    return module


def path_encode(s: str) -> str:
    """util/datamanager.lua's encode: every byte that is not [A-Za-z0-9] becomes %xx (lower hex)."""
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02x}" for b in s.encode("utf-8"))


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def scram_keys(hash_name: str, password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """(StoredKey, ServerKey) per RFC 5802 §3."""
    h = HASHES[hash_name]
    salted = hashlib.pbkdf2_hmac(h, password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", h).digest()
    return hashlib.new(h, client_key).digest(), hmac.new(salted, b"Server Key", h).digest()


def write_accounts(data_path: Path, domain: str, users: int, password: str, hash_name: str,
                   iterations: int) -> None:
    """user0 .. user(users-1), as mod_auth_internal_hashed's create_user would store them."""
    accounts = data_path / path_encode(domain) / "accounts"
    accounts.mkdir(parents=True, mode=0o700, exist_ok=True)
    for index in range(users):
        salt = str(uuid.uuid4())  # Prosody's own salts are util.uuid strings too
        stored_key, server_key = scram_keys(hash_name, password, salt.encode("ascii"), iterations)
        text = ("return {\n"
                f"\t[\"iteration_count\"] = {iterations};\n"
                f"\t[\"salt\"] = {lua_string(salt)};\n"
                f"\t[\"server_key\"] = {lua_string(server_key.hex())};\n"
                f"\t[\"stored_key\"] = {lua_string(stored_key.hex())};\n"
                "};\n")
        (accounts / f"{path_encode(f'user{index}')}.dat").write_text(text)


class Stop(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description="Prosody with accounts user0..user(N-1)/pw for xmpp-bench --url")
    parser.add_argument("--users", type=int, default=1000, help="accounts user0..user(N-1) (default 1000)")
    parser.add_argument("--hash", default="SHA-1", choices=sorted(HASHES),
                        help="password_hash: the one SCRAM-SHA-* Prosody offers (default SHA-1)")
    parser.add_argument("--password", default="pw")
    parser.add_argument("--domain", default="localhost")
    parser.add_argument("--iterations", type=int, default=64, help="SCRAM iteration count (default 64)")
    parser.add_argument("--log-level", default="warn", help="Prosody log level (default warn; debug logs every stanza)")
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    args = parser.parse_args()
    if args.users < 1 or args.iterations < 1:
        parser.error("--users and --iterations must be positive")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.users + 100  # one socket per client, listeners, log, epoll, files
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise_to = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raise_to, hard))  # prosody inherits it
        soft = raise_to
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"warning: file descriptor limit {soft} < {needed}: raise ulimit -n", file=sys.stderr)

    ps = load_prosody_server()
    timings: dict[str, float] = {}

    def prepare(server) -> None:
        began = time.monotonic()
        write_accounts(server.data_path, args.domain, args.users, args.password, args.hash, args.iterations)
        timings["accounts"] = time.monotonic() - began

    extra_config = "\n".join([
        "network_settings = { nagle = false, tcp_backlog = 4096 }",
        f"default_iteration_count = {args.iterations}  -- for any password set while running",
    ])
    server = ps.ProsodyServer(domain=args.domain, password_hash=args.hash, log_level=args.log_level,
                              extra_config=extra_config, startup_timeout=args.startup_timeout,
                              prepare=prepare)

    def on_signal(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status = 0
    began = time.monotonic()
    try:
        server.start()
        total = time.monotonic() - began
        print(f"prosody {args.domain}: {args.users} accounts user0..user{args.users - 1}/{args.password} "
              f"(SCRAM-{args.hash}, {args.iterations} iterations) written in {timings.get('accounts', 0):.2f} s; "
              f"serving after {total:.2f} s; dir {server.dir}; fd limit {soft}", file=sys.stderr, flush=True)
        print(f"URL {server.url}", flush=True)
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
        print(f"prosody exited by itself with {server.proc.returncode if server.proc else '?'}\n{server.log_tail()}",
              file=sys.stderr)
        status = 1
    except Stop as stop:
        print(f"{stop}: stopping prosody", file=sys.stderr, flush=True)
    except ps.ProsodyError as e:
        print(f"prosody failed: {e}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the clean stop short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()  # TERM, bounded wait, KILL; removes the temp dir
    return status


if __name__ == "__main__":
    sys.exit(main())
