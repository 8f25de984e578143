#!/usr/bin/env bash
# Autobahn fuzzingserver client loop around `switchboard connect --echo`.
#
#   AUTOBAHN_URL=ws://127.0.0.1:9001 AUTOBAHN_AGENT=switchboard scripts/autobahn-client-driver.sh
#
# Started by run-fuzzingserver.sh (which sets AUTOBAHN_URL / AUTOBAHN_AGENT):
#   1. /getCaseCount                      -> N          (wsctl.py, stdlib Python)
#   2. for i in 1..N: switchboard connect --echo "$AUTOBAHN_URL/runCase?case=$i&agent=$AUTOBAHN_AGENT"
#   3. /updateReports?agent=$AUTOBAHN_AGENT             (wsctl.py)
#
# A case's client exit status is not a verdict (the fuzzer fails some
# connections on purpose); the report decides. Exit status: 0 when the loop
# ran and the reports were updated, 1 otherwise.
#
# Environment: SWITCHBOARD_BIN (default .build/debug/switchboard),
# AUTOBAHN_TOOLS (default ../shared/tools/autobahn beside the repo),
# CASE_TIMEOUT (s per case, default 300), PYTHON (default python3).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
URL="${AUTOBAHN_URL:?AUTOBAHN_URL is not set (run me through run-fuzzingserver.sh)}"
URL="${URL%/}"
AGENT="${AUTOBAHN_AGENT:-switchboard}"
BIN="${SWITCHBOARD_BIN:-$REPO/.build/debug/switchboard}"
TOOLS="${AUTOBAHN_TOOLS:-$REPO/../shared/tools/autobahn}"
CASE_TIMEOUT="${CASE_TIMEOUT:-300}"
PYTHON="${PYTHON:-python3}"
WSCTL="$TOOLS/wsctl.py"

log() { printf '[driver] %s\n' "$*" >&2; }
[ -x "$BIN" ] || { log "no switchboard binary at $BIN"; exit 1; }
[ -f "$WSCTL" ] || { log "no wsctl.py at $WSCTL (set AUTOBAHN_TOOLS)"; exit 1; }

count="$("$PYTHON" "$WSCTL" "$URL" /getCaseCount --timeout 60 | tr -d '[:space:]')"
case "$count" in ''|*[!0-9]*) log "bad case count from $URL/getCaseCount: '$count'"; exit 1 ;; esac
log "$count cases, agent $AGENT, binary $BIN"

ERR="$(mktemp)"
trap 'rm -f "$ERR"' EXIT
timeouts=0
start=$(date +%s)
for ((i = 1; i <= count; i++)); do
  set +e
  timeout -k 5 "$CASE_TIMEOUT" "$BIN" connect --echo "$URL/runCase?case=$i&agent=$AGENT" \
    </dev/null >/dev/null 2>"$ERR"
  rc=$?
  set -e
  last="$(grep -E '^(closed|error):|Fatal error' "$ERR" | tail -1 || true)"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    timeouts=$((timeouts + 1))
    log "case $i: TIMEOUT after ${CASE_TIMEOUT}s ${last}"
  else
    printf '[driver] case %d: exit %d %s\n' "$i" "$rc" "$last" >&2
  fi
done
log "ran $count cases in $(( $(date +%s) - start )) s ($timeouts client timeouts); updating reports"
"$PYTHON" "$WSCTL" "$URL" "/updateReports?agent=$AGENT" --timeout 300 >/dev/null
log "reports updated"
