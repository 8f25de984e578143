#!/usr/bin/env bash
# Switchboard's echo server against reference echo servers, side by side (issues 6 and 20).
#
#   scripts/bench-compare.sh                 # Switchboard and bare NIO, every cell, 3 s each
#   DURATION=2 SIZES="16 1024" CONNECTIONS=16 scripts/bench-compare.sh
#   SERVERS="switchboard nio lws picows" scripts/bench-compare.sh      # four servers per cell
#
# The servers (SERVERS names any of them; default "switchboard $REFERENCE"):
#   switchboard  `switchboard serve --threads 1 --no-deflate --ping-interval 0`, /echo
#   nio          Benchmarks/NIOEcho's `nio-echo-server --threads 1`: NIOWebSocket's
#                upgrader plus a frame echo handler (a separate package)
#   hummingbird  Benchmarks/HummingbirdEcho's `hb-echo-server` (hummingbird-websocket 2.8
#                on one event-loop thread)
#   lws          Benchmarks/LWSEcho's `lws-echo-server`: libwebsockets 4.x (C, Debian's
#                libwebsockets-dev), one service thread
#   picows       Benchmarks/Picows' `picows_echo.py`: picows (Cython) on uvloop, one process
# REFERENCE=hummingbird (without SERVERS) compares Switchboard with Hummingbird instead of
# NIO; with DEFLATE=1 the servers negotiate permessage-deflate at their defaults and the
# generator offers it (switchboard and hummingbird only):
#   DEFLATE=1 REFERENCE=hummingbird KIND=text scripts/bench-compare.sh
# Every server is pinned to one core (taskset -c $SERVER_CPU; only one of them is under
# load at a time), and the generator, `switchboard bench` with one event-loop thread,
# to another (taskset -c $GEN_CPU). GENERATOR=c loads the echo rows with ws-load instead
# (Benchmarks/LoadGen: the same checks and JSON line from one epoll thread in C, which
# costs less CPU than the fastest servers do); the handshakes rows and DEFLATE=1 keep
# `switchboard bench`:
#   GENERATOR=c SERVERS="switchboard nio lws picows" scripts/bench-compare.sh
#
# For every cell (mode x size x connections) the generator runs once against each
# server, the order rotating from cell to cell (with two servers: alternating) so that
# a drift of the machine's speed favours none, and the script prints messages/s of
# each, the ratio of each server to the BASELINE server (bare NIO by default; no ratio
# columns when the baseline is not among SERVERS), every p99 latency and each run's CPU
# use, the server's and the generator's, over the measured window (server near 100% and
# generator below it: the generator is not what limits the cell). Then, per mode, the
# geometric mean of each server's ratios, and of each server's messages/s over the cells
# where every server passed. Every run's JSON line, with a "server" field added, is kept
# in $RESULTS. Every echoed byte is checked by the generator; a run that finds a wrong
# echo or a failed connection is printed as FAIL and the script exits 1.
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
#   SKIP_BUILD=1     use the binaries (and the picows venv) already built
#   SERVERS="switchboard nio"   the servers, in the order of the first cell (names above;
#                    default "switchboard $REFERENCE")
#   BASELINE=nio     the server the ratios divide by (default $REFERENCE); none when not in SERVERS
#   REFERENCE=nio    or hummingbird: the second server when SERVERS is not given
#   GENERATOR=switchboard   the generator of the echo rows: switchboard (`switchboard bench`) or
#                    c (Benchmarks/LoadGen's ws-load; handshakes rows and DEFLATE=1 still use
#                    `switchboard bench`)
#   SWITCHBOARD_BIN  the switchboard binary, also the generator (default .build/release/switchboard);
#                    implies no build of it
#   LOADGEN_BIN      with GENERATOR=c: default Benchmarks/LoadGen/.build/ws-load (Benchmarks/LoadGen/build.sh,
#                    needs gcc); implies no build of it
#   NIO_ECHO_BIN     default Benchmarks/NIOEcho/.build/release/nio-echo-server; implies no build of it
#   HB_ECHO_BIN      default Benchmarks/HummingbirdEcho/.build/release/hb-echo-server; implies no build of it
#   LWS_ECHO_BIN     default Benchmarks/LWSEcho/.build/lws-echo-server (Benchmarks/LWSEcho/build.sh,
#                    needs gcc and libwebsockets-dev); implies no build of it
#   PICOWS_ECHO      default Benchmarks/Picows/picows_echo.py
#   PICOWS_PYTHON    its interpreter (default Benchmarks/Picows/.venv/bin/python, made by
#                    Benchmarks/Picows/setup.sh, which needs PyPI); implies no setup
#   DEFLATE=0        1: permessage-deflate on the servers and in the generator (switchboard, hummingbird)
#   DEFLATE_LEVEL    with DEFLATE=1: zlib's level (0-9) for both servers and the generator
#                    (default each one's own; both default to 6)
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
GENERATOR="${GENERATOR:-switchboard}"
case "$GENERATOR" in switchboard|c) ;; *) echo "GENERATOR is switchboard or c" >&2; exit 2 ;; esac
SERVERS="${SERVERS:-switchboard $REFERENCE}"
BASELINE="${BASELINE:-$REFERENCE}"

log() { printf '[bench-compare] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }
command -v taskset >/dev/null || die "taskset not found (util-linux)"

# The servers, checked; SHORT names the columns.
declare -A SHORT=([switchboard]=sb [nio]=nio [hummingbird]=hb [lws]=lws [picows]=picows)
declare -A SEEN=()
LIST=()
for s in $SERVERS; do
  [ -n "${SHORT[$s]:-}" ] || die "unknown server '$s' in SERVERS (switchboard nio hummingbird lws picows)"
  [ -z "${SEEN[$s]:-}" ] || die "server '$s' twice in SERVERS"
  SEEN[$s]=1; LIST+=("$s")
done
[ "${#LIST[@]}" -ge 1 ] || die "SERVERS is empty"
has() { [ -n "${SEEN[$1]:-}" ]; }
if [ "$DEFLATE" = 1 ]; then
  has nio && die "the NIO reference has no permessage-deflate: DEFLATE=1 needs REFERENCE=hummingbird (or SERVERS without nio)"
  has lws && die "lws-echo-server has no permessage-deflate: DEFLATE=1 needs SERVERS without lws"
  has picows && die "picows' core API has no permessage-deflate: DEFLATE=1 needs SERVERS without picows"
fi
# COMPARED: the servers that get a ratio column, all but the baseline; none without a baseline.
ASKED_BASELINE="$BASELINE"
has "$BASELINE" || BASELINE=""
COMPARED=()
if [ -n "$BASELINE" ]; then
  for s in "${LIST[@]}"; do [ "$s" = "$BASELINE" ] || COMPARED+=("$s"); done
fi

# --- build ------------------------------------------------------------------
# What the header names: HEAD for the build made here, the path for a binary given.
SB_LABEL="${SWITCHBOARD_BIN:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}"
build() { [ "${SKIP_BUILD:-0}" != "1" ]; }
# provide VAR PATH STEP...: unless VAR is set, VAR=PATH, built first by STEP (unless SKIP_BUILD=1).
provide() {
  local var="$1" path="$2"; shift 2
  [ -z "${!var:-}" ] || return 0
  if build; then log "$*"; "$@" >&2; fi
  printf -v "$var" '%s' "$path"
}
provide SWITCHBOARD_BIN "$REPO/.build/release/switchboard" swift build -c release --product switchboard
for ref in NIOEcho:nio-echo-server:nio HummingbirdEcho:hb-echo-server:hummingbird; do
  IFS=: read -r dir binary name <<<"$ref"
  var=NIO_ECHO_BIN; [ "$name" = hummingbird ] && var=HB_ECHO_BIN
  has "$name" && provide "$var" "$REPO/Benchmarks/$dir/.build/release/$binary" \
    swift build -c release --package-path "Benchmarks/$dir" --scratch-path "Benchmarks/$dir/.build"
done
has lws && provide LWS_ECHO_BIN "$REPO/Benchmarks/LWSEcho/.build/lws-echo-server" Benchmarks/LWSEcho/build.sh
[ "$GENERATOR" = c ] && provide LOADGEN_BIN "$REPO/Benchmarks/LoadGen/.build/ws-load" Benchmarks/LoadGen/build.sh
PICOWS_ECHO="${PICOWS_ECHO:-$REPO/Benchmarks/Picows/picows_echo.py}"
has picows && provide PICOWS_PYTHON "$REPO/Benchmarks/Picows/.venv/bin/python" Benchmarks/Picows/setup.sh
[ -x "$SWITCHBOARD_BIN" ] || die "no switchboard binary at $SWITCHBOARD_BIN"
if [ "$GENERATOR" = c ]; then
  [ -x "$LOADGEN_BIN" ] || die "no ws-load binary at $LOADGEN_BIN (Benchmarks/LoadGen/build.sh)"
fi
has nio && { [ -x "$NIO_ECHO_BIN" ] || die "no nio-echo-server binary at $NIO_ECHO_BIN"; }
has hummingbird && { [ -x "$HB_ECHO_BIN" ] || die "no hb-echo-server binary at $HB_ECHO_BIN"; }
has lws && { [ -x "$LWS_ECHO_BIN" ] || die "no lws-echo-server binary at $LWS_ECHO_BIN (Benchmarks/LWSEcho/build.sh)"; }
if has picows; then
  [ -x "$PICOWS_PYTHON" ] || die "no Python at $PICOWS_PYTHON (Benchmarks/Picows/setup.sh)"
  [ -f "$PICOWS_ECHO" ] || die "no picows echo server at $PICOWS_ECHO"
fi
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
if [ "$DEFLATE" = 1 ] && [ -n "${DEFLATE_LEVEL:-}" ]; then
  SB_DEFLATE=(--deflate-level "$DEFLATE_LEVEL"); REF_DEFLATE=(--deflate-level "$DEFLATE_LEVEL")
  GEN_DEFLATE=(--deflate --deflate-level "$DEFLATE_LEVEL")
fi
declare -A SPID SURL
for s in "${LIST[@]}"; do
  case "$s" in
    switchboard) start "$s" "$SWITCHBOARD_BIN" serve --port 0 --threads 1 "${SB_DEFLATE[@]}" --ping-interval 0 --log-level error; path=/echo ;;
    nio)         start "$s" "$NIO_ECHO_BIN" --port 0 --threads 1; path=/ ;;
    hummingbird) start "$s" "$HB_ECHO_BIN" --port 0 "${REF_DEFLATE[@]}"; path=/ ;;
    lws)         start "$s" "$LWS_ECHO_BIN" --port 0; path=/echo ;;
    picows)      start "$s" "$PICOWS_PYTHON" "$PICOWS_ECHO" --port 0; path=/echo ;;
  esac
  SPID[$s]=$PID; SURL[$s]="ws://127.0.0.1:$PORT$path"
  log "$s pid $PID at ${SURL[$s]}"
done
log "servers on core $SERVER_CPU, generator on core $GEN_CPU"
log "every run's JSON line: $RESULTS"

# field NAME JSON: one value of a flat JSON line.
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
pct() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%d%%", v * 100 + 0.5 }'; }

# run SERVER MODE SIZE CONNS: one generator run against a server; prints its JSON line
# (with "server" added), or nothing when it failed.
run() {
  local name="$1" mode="$2" size="$3" conns="$4" pid="${SPID[$1]}" url="${SURL[$1]}" out
  kill -0 "$pid" 2>/dev/null || die "the $name server (pid $pid) is gone"
  local load=(-s "$size" --mode "$mode" -k "$K" --"$KIND" "${GEN_DEFLATE[@]}")
  [ "$mode" = handshakes ] && load=(--handshakes)
  # The generator: ws-load for the plain echo rows with GENERATOR=c, else `switchboard bench`.
  local gen=("$SWITCHBOARD_BIN" bench)
  [ "$GENERATOR" = c ] && [ "$mode" != handshakes ] && [ "$DEFLATE" != 1 ] && gen=("$LOADGEN_BIN")
  if out="$(taskset -c "$GEN_CPU" "${gen[@]}" "$url" --json -c "$conns" "${load[@]}" \
             -d "$DURATION" --warmup "$WARMUP" --server-pid "$pid" 2>"$WORK/bench.err")"; then
    out="{\"server\":\"$name\",${out#\{}"
    echo "$out" >>"$RESULTS"
    echo "$out"
  else
    log "FAIL: $name $url $mode size $size connections $conns:"
    sed 's/^/    /' "$WORK/bench.err" >&2
    [ -n "$out" ] && echo "{\"server\":\"$name\",${out#\{}" >>"$RESULTS"
    return 1
  fi
}

# The sizes and connection counts of a mode: a handshakes row has no message size.
sizes_of() { if [ "$1" = handshakes ]; then echo 0; else echo "$SIZES"; fi; }
conns_of() { if [ "$1" = handshakes ]; then echo "$HANDSHAKES"; else echo "$CONNECTIONS"; fi; }
n="${#LIST[@]}"
cells=0
for mode in $MODES; do for size in $(sizes_of "$mode"); do for conns in $(conns_of "$mode"); do cells=$((cells + 1)); done; done; done
log "$cells cells x $n servers x ~$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w + 0.5 }') s: about $(awk -v c="$cells" -v n="$n" -v d="$DURATION" -v w="$WARMUP" 'BEGIN { printf "%.0f", c * n * (d + w + 0.5) }') s"

# The table: msgs/s of every server, ratio of every compared server to the baseline,
# p99 of every server, then server and generator CPU of every run. With the default two
# servers these are the columns of the original two-server table.
if [ -n "$BASELINE" ]; then ratio_note="ratios: x / $BASELINE"; else ratio_note="no ratios (BASELINE $ASKED_BASELINE is not among SERVERS)"; fi
if [ "$GENERATOR" = c ] && [ "$DEFLATE" != 1 ]; then
  gen_note="generator ws-load (C${HANDSHAKES:+; handshakes: switchboard bench})"
else
  gen_note="generator switchboard bench"
fi
echo "# ${LIST[*]} echo (switchboard $SB_LABEL); $gen_note; $ratio_note; DEFLATE=$DEFLATE${DEFLATE_LEVEL:+ level $DEFLATE_LEVEL}; $(nproc) cores; DURATION=$DURATION WARMUP=$WARMUP K=$K KIND=$KIND; $(date -u '+%Y-%m-%d %H:%M UTC')"
ratio_head() { if [ "${#COMPARED[@]}" -eq 1 ]; then echo ratio; else echo "${SHORT[$1]}/${SHORT[$BASELINE]}"; fi; }
# width MIN TEXT: a column's width, MIN or the header's length if longer.
width() { if [ "${#2}" -gt "$1" ]; then echo "${#2}"; else echo "$1"; fi; }
ratio_width() { width 6 "$(ratio_head "$1")"; }
declare -A MW PW CW
for s in "${LIST[@]}"; do
  MW[$s]="$(width 12 "${SHORT[$s]} msg/s")"; PW[$s]="$(width 9 "${SHORT[$s]} p99us")"; CW[$s]="$(width 6 "${SHORT[$s]} cpu")"
done
{
  printf '%-9s %7s %5s ' mode size conns
  for s in "${LIST[@]}"; do printf ' %*s' "${MW[$s]}" "${SHORT[$s]} msg/s"; done
  if [ -n "$BASELINE" ]; then for s in "${COMPARED[@]}"; do printf ' %*s' "$(ratio_width "$s")" "$(ratio_head "$s")"; done; fi
  printf ' '
  for s in "${LIST[@]}"; do printf ' %*s' "${PW[$s]}" "${SHORT[$s]} p99us"; done
  printf ' '
  for s in "${LIST[@]}"; do printf ' %*s %6s' "${CW[$s]}" "${SHORT[$s]} cpu" gen; done
  printf '\n'
}
status=0
cell=0
declare -A OUT RATIOS RATES
for mode in $MODES; do
  for s in "${LIST[@]}"; do RATIOS[$mode:$s]=""; RATES[$mode:$s]=""; done
  for size in $(sizes_of "$mode"); do
    for conns in $(conns_of "$mode"); do
      cell=$((cell + 1))
      # This cell's order: the list rotated by one more place than the last cell's.
      first=$(( (cell - 1) % n ))
      all=1
      for i in $(seq 0 $((n - 1))); do
        s="${LIST[$(( (first + i) % n ))]}"
        OUT[$s]="$(run "$s" "$mode" "$size" "$conns")" || status=1
        [ -n "${OUT[$s]}" ] || all=0
      done
      declare -A RATE=()
      for s in "${LIST[@]}"; do RATE[$s]=""; [ -z "${OUT[$s]}" ] || RATE[$s]="$(field msgs_per_s "${OUT[$s]}")"; done
      {
        printf '%-9s %7s %5s ' "$mode" "$size" "$conns"
        for s in "${LIST[@]}"; do
          if [ -n "${RATE[$s]}" ]; then printf ' %*.0f' "${MW[$s]}" "${RATE[$s]}"; else printf ' %*s' "${MW[$s]}" FAIL; fi
        done
        if [ -n "$BASELINE" ]; then
          for s in "${COMPARED[@]}"; do
            ratio="$(awk -v a="${RATE[$s]}" -v b="${RATE[$BASELINE]}" 'BEGIN { if (a == "" || b == "") print "-"; else if (b > 0) printf "%.3f", a / b; else print "nan" }')"
            case "$ratio" in -|nan) ;; *) RATIOS[$mode:$s]="${RATIOS[$mode:$s]} $ratio" ;; esac
            printf ' %*s' "$(ratio_width "$s")" "$ratio"
          done
        fi
        printf ' '
        for s in "${LIST[@]}"; do printf ' %*s' "${PW[$s]}" "$([ -n "${OUT[$s]}" ] && field p99_us "${OUT[$s]}" || echo -)"; done
        printf ' '
        for s in "${LIST[@]}"; do
          if [ -n "${OUT[$s]}" ]; then
            printf ' %*s %6s' "${CW[$s]}" "$(pct "$(field server_cpu "${OUT[$s]}")")" "$(pct "$(field generator_cpu "${OUT[$s]}")")"
          else
            printf ' %*s %6s' "${CW[$s]}" - -
          fi
        done
        printf '\n'
      }
      # Each server's rate enters its geometric mean only where every server passed.
      if [ "$all" = 1 ]; then for s in "${LIST[@]}"; do RATES[$mode:$s]="${RATES[$mode:$s]} ${RATE[$s]}"; done; fi
    done
  done
done

echo
for mode in $MODES; do
  [ -n "$BASELINE" ] || break
  for s in "${COMPARED[@]}"; do
    [ -n "${RATIOS[$mode:$s]}" ] || continue
    label=""; [ "${#COMPARED[@]}" -eq 1 ] || label="$s/$BASELINE "
    # shellcheck disable=SC2086
    printf '%s\n' ${RATIOS[$mode:$s]} | awk -v m="$mode" -v l="$label" -v b="$( [ "$BASELINE" = nio ] && echo NIO || echo "$BASELINE")" '
      { s += log($1); n++; if ($1 >= 1) ge++; if (min == "" || $1 < min) min = $1 }
      END { printf "geometric mean %-9s %s%.3f  (%d cells, %d at least as fast as %s, lowest %.3f)\n", m, l, exp(s / n), n, ge, b, min }'
  done
done
for mode in $MODES; do
  line=""; count=0
  for s in "${LIST[@]}"; do
    [ -n "${RATES[$mode:$s]}" ] || continue
    # shellcheck disable=SC2086
    g="$(printf '%s\n' ${RATES[$mode:$s]} | awk '$1 > 0 { s += log($1); n++ } END { if (n) printf "%.0f %d", exp(s / n), n }')"
    [ -n "$g" ] || continue
    line="$line  $s ${g% *}"; count="${g#* }"
  done
  unit="msgs/s"; [ "$mode" = handshakes ] && unit="handshakes/s"
  [ -n "$line" ] && printf 'geometric mean %-9s %s:%s  (%d cells where every server passed)\n' "$mode" "$unit" "$line" "$count"
done
[ "$status" -eq 0 ] || log "some runs FAILED: their cells are not valid"
exit "$status"
