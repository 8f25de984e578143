#!/usr/bin/env bash
# Switchboard's echo server against the bare-SwiftNIO reference, side by side (issue 6).
#
#   scripts/bench-compare.sh                 # every cell, 3 s each
#   DURATION=2 SIZES="16 1024" CONNECTIONS=16 scripts/bench-compare.sh
#
# The two servers:
#   switchboard  `switchboard serve --threads 1 --no-deflate --ping-interval 0`, /echo
#   nio          Benchmarks/NIOEcho's `nio-echo-server --threads 1`: NIOWebSocket's
#                upgrader plus a frame echo handler (a separate package)
# or, with REFERENCE=hummingbird, Benchmarks/HummingbirdEcho's `hb-echo-server`
# (hummingbird-websocket 2.8 on one event-loop thread); with DEFLATE=1 both
# servers negotiate permessage-deflate at their defaults and the generator offers it:
#   DEFLATE=1 REFERENCE=hummingbird KIND=text scripts/bench-compare.sh
# each pinned to one core (taskset -c $SERVER_CPU; only one of them is under load
# at a time), and the generator, `switchboard bench` with one event-loop thread,
# pinned to another (taskset -c $GEN_CPU).
#
# For every cell (mode x size x connections) the generator runs once against each
# server, the order alternating from cell to cell so that a drift of the machine's
# speed favours neither, and the script prints messages/s of each, the ratio
# Switchboard / NIO, both p99 latencies and each side's CPU use over the measured
# window (server near 100% and generator below it: the generator is not what limits
# the cell). Then the geometric mean of the ratios per mode. Every run's JSON line is
# kept in $RESULTS. Every echoed byte is checked by the generator; a run that finds a
# wrong echo or a failed connection is printed as FAIL and the script exits 1.
#
# These are ratios from one run on a shared machine: repeat and take medians before
# quoting a figure (issue 6 asks for medians of several runs).
#
# Environment:
#   DURATION=3       seconds measured per run, after WARMUP
#   WARMUP=1         seconds of load before measuring
#   SIZES="16 128 1024 16384 131072"   message sizes in bytes
#   CONNECTIONS="1 16 256"
#   MODES="pingpong pipelined"
#   HANDSHAKES=64    handshake loops of the handshakes rows (`bench --handshakes -c N`; a list runs
#                    one row per value; empty: no such rows; default empty with DEFLATE=1)
#   K=16             messages in flight per connection when pipelined
#   KIND=binary      or text
#   SERVER_CPU=0     core of the servers
#   GEN_CPU=1        core of the generator
#   SKIP_BUILD=1     use the release binaries already built
#   SWITCHBOARD_BIN  the switchboard binary (default .build/release/switchboard); implies no build of it
#   NIO_ECHO_BIN     the reference (default Benchmarks/NIOEcho/.build/release/nio-echo-server); implies no build of it
#   REFERENCE=nio    or hummingbird (HB_ECHO_BIN, default Benchmarks/HummingbirdEcho/.build/release/hb-echo-server)
#   DEFLATE=0        1: permessage-deflate on both servers and in the generator
#   RESULTS=FILE     JSON lines of every run (default: a new file in /tmp)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

DURATION="${DURATION:-3}"
WARMUP="${WARMUP:-1}"
SIZES="${SIZES:-16 128 1024 16384 131072}"
CONNECTIONS="${CONNECTIONS:-1 16 256}"
MODES="${MODES:-pingpong pipelined}"
if [ "${DEFLATE:-0}" = 1 ]; then HANDSHAKES="${HANDSHAKES-}"; else HANDSHAKES="${HANDSHAKES-64}"; fi
[ -n "$HANDSHAKES" ] && MODES="$MODES handshakes"
K="${K:-16}"
KIND="${KIND:-binary}"
SERVER_CPU="${SERVER_CPU:-0}"
GEN_CPU="${GEN_CPU:-1}"
RESULTS="${RESULTS:-$(mktemp /tmp/bench-compare.XXXXXX.jsonl)}"
REFERENCE="${REFERENCE:-nio}"
DEFLATE="${DEFLATE:-0}"
case "$REFERENCE" in nio|hummingbird) ;; *) echo "REFERENCE is nio or hummingbird" >&2; exit 2 ;; esac

log() { printf '[bench-compare] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }
command -v taskset >/dev/null || die "taskset not found (util-linux)"

# --- build ------------------------------------------------------------------
# What the header names: HEAD for the build made here, the path for a binary given.
SB_LABEL="${SWITCHBOARD_BIN:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}"
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  if [ "${SKIP_BUILD:-0}" != "1" ]; then
    log "swift build -c release --product switchboard"
    swift build -c release --product switchboard >&2
  fi
  SWITCHBOARD_BIN="$REPO/.build/release/switchboard"
fi
if [ "$REFERENCE" = hummingbird ]; then
  if [ -z "${HB_ECHO_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != "1" ]; then
    log "swift build -c release (Benchmarks/HummingbirdEcho)"
    swift build -c release --package-path Benchmarks/HummingbirdEcho --scratch-path Benchmarks/HummingbirdEcho/.build >&2
  fi
  NIO_ECHO_BIN="${HB_ECHO_BIN:-$REPO/Benchmarks/HummingbirdEcho/.build/release/hb-echo-server}"
elif [ -z "${NIO_ECHO_BIN:-}" ]; then
  if [ "${SKIP_BUILD:-0}" != "1" ]; then
    log "swift build -c release (Benchmarks/NIOEcho)"
    swift build -c release --package-path Benchmarks/NIOEcho --scratch-path Benchmarks/NIOEcho/.build >&2
  fi
  NIO_ECHO_BIN="$REPO/Benchmarks/NIOEcho/.build/release/nio-echo-server"
fi
[ -x "$SWITCHBOARD_BIN" ] || die "no switchboard binary at $SWITCHBOARD_BIN"
[ -x "$NIO_ECHO_BIN" ] || die "no nio-echo-server binary at $NIO_ECHO_BIN"
ulimit -n 8192 2>/dev/null || true

# --- servers ----------------------------------------------------------------
WORK="$(mktemp -d /tmp/bench-compare.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME COMMAND...: starts a server on port 0 pinned to SERVER_CPU; sets PID and PORT from its "listening on" line.
start() {
  local name="$1"; shift
  taskset -c "$SERVER_CPU" "$@" 2>"$WORK/$name.log" &
  PID=$!
  PIDS+=("$PID")
  PORT=""
  for _ in $(seq 1 100); do
    PORT="$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/$name.log" | head -1)"
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$name exited at start"; }
    sleep 0.1
  done
  cat "$WORK/$name.log" >&2
  die "$name did not report its port"
}

SB_DEFLATE=(--no-deflate); REF_DEFLATE=(--no-deflate); GEN_DEFLATE=()
[ "$DEFLATE" = 1 ] && { SB_DEFLATE=(); REF_DEFLATE=(); GEN_DEFLATE=(--deflate); }
start switchboard "$SWITCHBOARD_BIN" serve --port 0 --threads 1 "${SB_DEFLATE[@]}" --ping-interval 0 --log-level error
SB_PID=$PID; SB_URL="ws://127.0.0.1:$PORT/echo"
if [ "$REFERENCE" = hummingbird ]; then
  start nio "$NIO_ECHO_BIN" --port 0 "${REF_DEFLATE[@]}"
else
  [ "$DEFLATE" = 1 ] && die "the NIO reference has no permessage-deflate: DEFLATE=1 needs REFERENCE=hummingbird"
  start nio "$NIO_ECHO_BIN" --port 0 --threads 1
fi
NIO_PID=$PID; NIO_URL="ws://127.0.0.1:$PORT/"
log "switchboard pid $SB_PID at $SB_URL; nio pid $NIO_PID at $NIO_URL; servers on core $SERVER_CPU, generator on core $GEN_CPU"
log "every run's JSON line: $RESULTS"

# field NAME JSON: one value of a flat JSON line.
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
pct() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%d%%", v * 100 + 0.5 }'; }

# run SERVER_PID URL MODE SIZE CONNS: one generator run; prints its JSON line, or nothing when it failed.
run() {
  local pid="$1" url="$2" mode="$3" size="$4" conns="$5" out
  kill -0 "$pid" 2>/dev/null || die "the server (pid $pid) is gone"
  local load=(-s "$size" --mode "$mode" -k "$K" --"$KIND" "${GEN_DEFLATE[@]}")
  [ "$mode" = handshakes ] && load=(--handshakes)
  if out="$(taskset -c "$GEN_CPU" "$SWITCHBOARD_BIN" bench "$url" --json -c "$conns" "${load[@]}" \
             -d "$DURATION" --warmup "$WARMUP" --server-pid "$pid" 2>"$WORK/bench.err")"; then
    echo "$out" >>"$RESULTS"
    echo "$out"
  else
    log "FAIL: $url $mode size $size connections $conns:"
    sed 's/^/    /' "$WORK/bench.err" >&2
    [ -n "$out" ] && echo "$out" >>"$RESULTS"
    return 1
  fi
}

# The sizes and connection counts of a mode: a handshakes row has no message size.
sizes_of() { if [ "$1" = handshakes ]; then echo 0; else echo "$SIZES"; fi; }
conns_of() { if [ "$1" = handshakes ]; then echo "$HANDSHAKES"; else echo "$CONNECTIONS"; fi; }
cells=0
for mode in $MODES; do for size in $(sizes_of "$mode"); do for conns in $(conns_of "$mode"); do cells=$((cells + 1)); done; done; done
log "$cells cells x 2 servers x ~$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w + 0.5 }') s: about $(awk -v c="$cells" -v d="$DURATION" -v w="$WARMUP" 'BEGIN { printf "%.0f", c * 2 * (d + w + 0.5) }') s"

echo "# switchboard $SB_LABEL vs $REFERENCE echo (the nio columns), DEFLATE=$DEFLATE; $(nproc) cores; DURATION=$DURATION WARMUP=$WARMUP K=$K KIND=$KIND; $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-9s %7s %5s  %12s %12s %6s  %9s %9s  %6s %6s %6s %6s\n' \
  mode size conns "sb msg/s" "nio msg/s" ratio "sb p99us" "nio p99us" "sb cpu" "gen" "nio cpu" "gen"
status=0
cell=0
declare -A RATIOS
for mode in $MODES; do
  RATIOS[$mode]=""
  for size in $(sizes_of "$mode"); do
    for conns in $(conns_of "$mode"); do
      cell=$((cell + 1))
      sb="" nio=""
      if [ $((cell % 2)) -eq 1 ]; then
        sb="$(run "$SB_PID" "$SB_URL" "$mode" "$size" "$conns")" || status=1
        nio="$(run "$NIO_PID" "$NIO_URL" "$mode" "$size" "$conns")" || status=1
      else
        nio="$(run "$NIO_PID" "$NIO_URL" "$mode" "$size" "$conns")" || status=1
        sb="$(run "$SB_PID" "$SB_URL" "$mode" "$size" "$conns")" || status=1
      fi
      if [ -z "$sb" ] || [ -z "$nio" ]; then
        printf '%-9s %7s %5s  %s\n' "$mode" "$size" "$conns" "FAIL (see above)"
        continue
      fi
      sbr="$(field msgs_per_s "$sb")"; nior="$(field msgs_per_s "$nio")"
      ratio="$(awk -v a="$sbr" -v b="$nior" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }')"
      [ "$ratio" != "nan" ] && RATIOS[$mode]="${RATIOS[$mode]} $ratio"
      printf '%-9s %7s %5s  %12.0f %12.0f %6s  %9s %9s  %6s %6s %6s %6s\n' "$mode" "$size" "$conns" "$sbr" "$nior" "$ratio" \
        "$(field p99_us "$sb")" "$(field p99_us "$nio")" \
        "$(pct "$(field server_cpu "$sb")")" "$(pct "$(field generator_cpu "$sb")")" \
        "$(pct "$(field server_cpu "$nio")")" "$(pct "$(field generator_cpu "$nio")")"
    done
  done
done

echo
for mode in $MODES; do
  [ -n "${RATIOS[$mode]}" ] || continue
  # shellcheck disable=SC2086
  printf '%s\n' ${RATIOS[$mode]} | awk -v m="$mode" '
    { s += log($1); n++; if ($1 >= 1) ge++; if (min == "" || $1 < min) min = $1 }
    END { printf "geometric mean %-9s %.3f  (%d cells, %d at least as fast as NIO, lowest %.3f)\n", m, exp(s / n), n, ge, min }'
done
[ "$status" -eq 0 ] || log "some runs FAILED: their cells are not valid"
exit "$status"
