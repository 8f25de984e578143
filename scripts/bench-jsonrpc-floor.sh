#!/usr/bin/env bash
# JSON-RPC calls per second against the transport's own echo floor (issue 20).
#
#   scripts/bench-jsonrpc-floor.sh
#   ROUNDS=5 CONNECTIONS="1 16 256" scripts/bench-jsonrpc-floor.sh
#
# One `switchboard serve --threads 1 --no-deflate --ping-interval 0`, pinned to core
# $SERVER_CPU; ws-load (Benchmarks/LoadGen) on core $GEN_CPU sends the same JSON-RPC
# request text, ping-pong or pipelined ($K in flight), either to /echo, which sends it
# back (the floor: framing, the socket, the event loop), or to /rpc, which parses it,
# calls the demo's typed `subtract` and writes the result; ws-load checks every answer
# byte for byte. Rounds alternate the two; per cell the script prints the medians of
# messages/s and of the server's CPU time per message (server CPU fraction / rate), and
# their ratio: what the JSONRPC module costs per call beyond the echo.
#
# Environment: ROUNDS=3, DURATION=2, WARMUP=1, CONNECTIONS="1 16", MODES="pingpong pipelined",
# K=16, SERVER_CPU=0, GEN_CPU=1, SWITCHBOARD_BIN (default .build/release/switchboard),
# LOADGEN_BIN (default Benchmarks/LoadGen/.build/ws-load, built when missing).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-2}"; WARMUP="${WARMUP:-1}"
CONNECTIONS="${CONNECTIONS:-1 16}"; MODES="${MODES:-pingpong pipelined}"; K="${K:-16}"
SERVER_CPU="${SERVER_CPU:-0}"; GEN_CPU="${GEN_CPU:-1}"
SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$REPO/.build/release/switchboard}"
LOADGEN_BIN="${LOADGEN_BIN:-$REPO/Benchmarks/LoadGen/.build/ws-load}"
[ -x "$SWITCHBOARD_BIN" ] || { echo "no switchboard binary at $SWITCHBOARD_BIN (swift build -c release)" >&2; exit 2; }
[ -x "$LOADGEN_BIN" ] || Benchmarks/LoadGen/build.sh >&2

REQUEST='{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}'
REPLY='{"jsonrpc":"2.0","result":19,"id":1}'

WORK="$(mktemp -d /tmp/bench-jsonrpc-floor.XXXXXX)"
taskset -c "$SERVER_CPU" "$SWITCHBOARD_BIN" serve --port 0 --threads 1 --no-deflate --ping-interval 0 --log-level error \
  2>"$WORK/serve.log" >"$WORK/serve.out" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=""
for _ in $(seq 1 100); do
  PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/serve.out" "$WORK/serve.log" | head -1)"
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/serve.log" >&2; echo "the server did not start" >&2; exit 1; }

# Checks the reply once, so that a changed encoding fails here with the server's own words.
taskset -c "$GEN_CPU" "$LOADGEN_BIN" "ws://127.0.0.1:$PORT/rpc" --message "$REQUEST" --reply "$REPLY" -c 1 -d 0.2 --warmup 0 \
  >/dev/null || { echo "the /rpc answer is not $REPLY" >&2; exit 1; }

echo "# JSON-RPC subtract vs echo of the same ${#REQUEST}-byte request; switchboard $(git rev-parse --short HEAD); $ROUNDS rounds, DURATION=$DURATION; $(date -u '+%Y-%m-%d %H:%M UTC')"
for mode in $MODES; do
  for conns in $CONNECTIONS; do
    for round in $(seq 1 "$ROUNDS"); do
      for route in echo rpc; do
        reply="$REQUEST"; [ "$route" = rpc ] && reply="$REPLY"
        out="$(taskset -c "$GEN_CPU" "$LOADGEN_BIN" "ws://127.0.0.1:$PORT/$route" --message "$REQUEST" --reply "$reply" \
          -c "$conns" --mode "$mode" -k "$K" -d "$DURATION" --warmup "$WARMUP" --server-pid "$SERVER" --json)"
        echo "$mode $conns $route $out" >>"$WORK/runs"
      done
    done
  done
done
python3 - "$WORK/runs" <<'EOF'
import json, statistics, sys
cells = {}
for line in open(sys.argv[1]):
    mode, conns, route, js = line.split(" ", 3)
    run = json.loads(js)
    rate, cpu = run["msgs_per_s"], run.get("server_cpu")
    cells.setdefault((mode, int(conns)), {}).setdefault(route, []).append((rate, cpu / rate * 1e6 if cpu else float("nan"), run.get("generator_cpu")))
print(f"{'mode':10} {'conns':>5} {'echo msg/s':>11} {'rpc calls/s':>11} {'rate ratio':>10} {'echo us/msg':>11} {'rpc us/call':>11} {'cost ratio':>10} {'gen cpu':>8}")
for (mode, conns), routes in sorted(cells.items()):
    med = lambda route, i: statistics.median(r[i] for r in routes[route])
    print(f"{mode:10} {conns:>5} {med('echo', 0):>11,.0f} {med('rpc', 0):>11,.0f} {med('rpc', 0) / med('echo', 0):>10.3f}"
          f" {med('echo', 1):>11.2f} {med('rpc', 1):>11.2f} {med('rpc', 1) / med('echo', 1):>10.2f} {med('rpc', 2):>8.0%}")
EOF
