#!/usr/bin/env bash
# A/B of echo servers under one load: alternating runs, medians (issue 6).
#
#   scripts/bench-ab.sh "-c 16 -s 16" BIN_A BIN_B [...]
#   ROUNDS=7 scripts/bench-ab.sh "-c 16 -s 128 --mode pipelined -k 16" nio .build/release/switchboard
#
# Each server is `BIN serve --threads 1 --no-deflate --ping-interval 0` (a
# Switchboard binary, e.g. one built at another commit, which may also carry
# arguments of its own for `serve` after commas: `BIN,--metrics,0`), or the word `nio` for
# Benchmarks/NIOEcho's bare SwiftNIO echo server ($NIO_ECHO_BIN), which may carry
# its own arguments after commas (`nio,--accepts-per-wakeup,16`), or `hummingbird`
# for hummingbird-websocket's own echo (Benchmarks/HummingbirdEcho, $HB_ECHO_BIN,
# without deflate), or `adapter` for Switchboard's echo mounted in a Hummingbird
# app (Adapters/SwitchboardHummingbird's example, $ADAPTER_BIN), or `vapor-adapter`
# for the same in a Vapor app (Adapters/SwitchboardVapor's example, $VAPOR_ADAPTER_BIN). The servers
# run one at a time, pinned to core $SERVER_CPU; the generator, `$GEN bench
# ws://127.0.0.1:PORT/echo ARGS --json` (default: the first Switchboard binary
# given), is pinned to core $GEN_CPU. Every round runs every server once, in
# the order given, so a drift of the machine's speed touches all of them; the
# script prints each run (messages/s, server and generator CPU) and then, per
# server, the median messages/s and its median ratio to the first server of
# each round (paired ratios).
#
# Environment: ROUNDS=5, DURATION=1.5 (s measured per run), WARMUP=0.5,
# SERVER_CPU=0, GEN_CPU=1, PORT=9123, GEN, NIO_ECHO_BIN. GEN may also be
# Benchmarks/LoadGen/.build/ws-load, the C generator (plain echo options only; it
# takes `bench` as its first argument).
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
ARGS="$1"; shift
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-5}"; DURATION="${DURATION:-1.5}"; WARMUP="${WARMUP:-0.5}"
SERVER_CPU="${SERVER_CPU:-0}"; GEN_CPU="${GEN_CPU:-1}"; PORT="${PORT:-9123}"
NIO_ECHO_BIN="${NIO_ECHO_BIN:-$REPO/Benchmarks/NIOEcho/.build/release/nio-echo-server}"
HB_ECHO_BIN="${HB_ECHO_BIN:-$REPO/Benchmarks/HummingbirdEcho/.build/release/hb-echo-server}"
ADAPTER_BIN="${ADAPTER_BIN:-$REPO/Adapters/SwitchboardHummingbird/.build/release/hummingbird-example}"
VAPOR_ADAPTER_BIN="${VAPOR_ADAPTER_BIN:-$REPO/Adapters/SwitchboardVapor/.build/release/vapor-example}"
GEN="${GEN:-}"
for bin in "$@"; do
  if [ "${bin%%,*}" = nio ]; then [ -x "$NIO_ECHO_BIN" ] || { echo "no nio-echo-server at $NIO_ECHO_BIN" >&2; exit 2; }
  elif [ "$bin" = hummingbird ]; then [ -x "$HB_ECHO_BIN" ] || { echo "no hb-echo-server at $HB_ECHO_BIN" >&2; exit 2; }
  elif [ "$bin" = adapter ]; then [ -x "$ADAPTER_BIN" ] || { echo "no hummingbird-example at $ADAPTER_BIN" >&2; exit 2; }
  elif [ "$bin" = vapor-adapter ]; then [ -x "$VAPOR_ADAPTER_BIN" ] || { echo "no vapor-example at $VAPOR_ADAPTER_BIN" >&2; exit 2; }
  else [ -x "${bin%%,*}" ] || { echo "no binary at ${bin%%,*}" >&2; exit 2; }; [ -n "$GEN" ] || GEN="${bin%%,*}"; fi
done
[ -n "$GEN" ] || { echo "name at least one Switchboard binary, or set GEN" >&2; exit 2; }
RESULTS="$(mktemp "${TMPDIR:-/tmp}/bench-ab.XXXXXX")"

for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    if [ "${bin%%,*}" = nio ]; then
      nio_args="${bin#nio}"
      # shellcheck disable=SC2086
      taskset -c "$SERVER_CPU" "$NIO_ECHO_BIN" --port "$PORT" --threads 1 ${nio_args//,/ } >/dev/null 2>&1 &
    elif [ "$bin" = hummingbird ]; then
      taskset -c "$SERVER_CPU" "$HB_ECHO_BIN" --port "$PORT" --no-deflate >/dev/null 2>&1 &
    elif [ "$bin" = adapter ]; then
      taskset -c "$SERVER_CPU" "$ADAPTER_BIN" --port "$PORT" >/dev/null 2>&1 &
    elif [ "$bin" = vapor-adapter ]; then
      taskset -c "$SERVER_CPU" "$VAPOR_ADAPTER_BIN" --port "$PORT" >/dev/null 2>&1 &
    else
      serve_args=""; [[ "$bin" == *,* ]] && serve_args="${bin#*,}"
      # shellcheck disable=SC2086
      taskset -c "$SERVER_CPU" "${bin%%,*}" serve --port "$PORT" --threads 1 --no-deflate --ping-interval 0 --log-level error \
        ${serve_args//,/ } >/dev/null 2>&1 &
    fi
    server=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    # shellcheck disable=SC2086
    line="$(taskset -c "$GEN_CPU" "$GEN" bench "ws://127.0.0.1:$PORT/echo" $ARGS -d "$DURATION" --warmup "$WARMUP" \
            --server-pid "$server" --json 2>/dev/null | tail -1)" || line=""
    kill "$server"; wait "$server" 2>/dev/null || true
    printf '%s\t%s\t%s\n' "$round" "$bin" "$line" >> "$RESULTS"
    python3 - "$round" "$bin" "$line" <<'PY' || echo "round $round  $bin: FAIL (no result)"
import json, sys
d = json.loads(sys.argv[3])
print(f"round {sys.argv[1]}  {sys.argv[2]}: {d['msgs_per_s']:.0f} msgs/s, server cpu {d.get('server_cpu')}, generator cpu {d.get('generator_cpu')}")
PY
  done
done

python3 - "$RESULTS" "$@" <<'PY'
import json, statistics, sys
path, servers = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(path):
    round_, server, payload = line.rstrip("\n").split("\t", 2)
    try: runs.setdefault(round_, {})[server] = json.loads(payload)["msgs_per_s"]
    except (ValueError, KeyError): pass
first = servers[0]
print(f"\nmedians over {len(runs)} rounds (ratio: paired, to {first} in the same round)")
for server in servers:
    rates = [r[server] for r in runs.values() if server in r]
    ratios = [r[server] / r[first] for r in runs.values() if server in r and first in r and r[first] > 0]
    if not rates: print(f"  {server}: no result"); continue
    print(f"  {server}: {statistics.median(rates):,.0f} msgs/s (range {min(rates):,.0f}-{max(rates):,.0f})"
          + (f", ratio {statistics.median(ratios):.3f}" if server != first else ""))
PY
rm -f "$RESULTS"
