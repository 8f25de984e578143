#!/usr/bin/env python3
"""Bytes of server memory per idle WebSocket connection (process RSS).

    scripts/idle-memory.py [--connections N] [--deflate] [--busy] [--bin PATH] [--runs R] [--settle S]
    scripts/idle-memory.py --nio PATH [--connections N] [--runs R]

Starts `switchboard serve` on a free port, reads its RSS, opens N client
connections to /echo (offering permessage-deflate with --deflate), optionally
sends one compressible 1 KiB message on each and waits for the echo (--busy:
so both zlib streams of each connection have been used), waits for the server
to settle (S seconds, default 7: past the 5 s after which an idle connection
frees its compressor), reads RSS again and prints (after - before) / N. Repeats R times
(fresh server each time) and prints the median. Uses Python `websockets`.

--nio PATH measures the bare SwiftNIO echo server of Benchmarks/NIOEcho
instead (`nio-echo-server`, no deflate): the floor that NIO's own channel,
pipeline and WebSocket handlers set, under the same load.
"""
import argparse, asyncio, os, resource, socket, statistics, subprocess, sys, time

def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

async def open_connections(port, n, deflate, busy):
    from websockets.asyncio.client import connect
    conns = []
    payload = ('{"id":1,"method":"update","params":{"user":"someone","score":42}}' * 16)[:1024]
    for i in range(0, n, 100):
        batch = await asyncio.gather(*[
            connect(f"ws://127.0.0.1:{port}/echo", compression="deflate" if deflate else None,
                    ping_interval=None, max_size=None)
            for _ in range(min(100, n - i))])
        if deflate:
            for c in batch:
                assert "permessage-deflate" in (c.response.headers.get("Sec-WebSocket-Extensions") or ""), "deflate not negotiated"
        if busy:
            await asyncio.gather(*[c.send(payload) for c in batch])
            echoes = await asyncio.gather(*[c.recv() for c in batch])
            assert all(e == payload for e in echoes)
        conns += batch
    return conns

def one_run(args):
    port = free_port()
    if args.nio:
        cmd = [args.nio, "--port", str(port), "--threads", "1"]
    else:
        cmd = [args.bin, "serve", "--port", str(port), "--ping-interval", "0", "--log-level", "error"]
        if not args.deflate:
            cmd.append("--no-deflate")
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
            except OSError:
                time.sleep(0.1)
        async def measure():
            # Warm the server up with a few connections so that one-time allocations are not counted.
            warm = await open_connections(port, 100, args.deflate, args.busy)
            await asyncio.gather(*[c.close() for c in warm])
            await asyncio.sleep(1.0)
            before = rss_bytes(server.pid)
            conns = await open_connections(port, args.connections, args.deflate, args.busy)
            await asyncio.sleep(args.settle)
            after = rss_bytes(server.pid)
            await asyncio.gather(*[c.close() for c in conns])
            return (after - before) / args.connections
        return asyncio.run(measure())
    finally:
        server.terminate()
        try: server.wait(10)
        except subprocess.TimeoutExpired: server.kill()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--deflate", action="store_true")
    ap.add_argument("--busy", action="store_true", help="send one 1 KiB message per connection before measuring")
    ap.add_argument("--bin", default=".build/release/switchboard")
    ap.add_argument("--nio", metavar="PATH", help="measure the bare SwiftNIO echo server at PATH instead")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--settle", type=float, default=7.0,
                    help="seconds to wait before reading RSS; past the server's 5 s releaseIdleMemoryAfter by default")
    args = ap.parse_args()
    if args.nio and args.deflate:
        ap.error("the bare NIO echo server has no deflate")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.connections + 1024)), hard))
    per = [one_run(args) for _ in range(args.runs)]
    label = ("bare NIO, " if args.nio else "") + f"deflate={'on' if args.deflate else 'off'} busy={'yes' if args.busy else 'no'} N={args.connections}"
    print(f"idle memory per connection ({label}): median {statistics.median(per):,.0f} B; runs: " +
          ", ".join(f"{p:,.0f}" for p in per))

if __name__ == "__main__":
    main()
