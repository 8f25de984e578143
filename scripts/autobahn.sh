#!/usr/bin/env bash
# The Autobahn|Testsuite run, both roles, against the switchboard binary.
#
#   scripts/autobahn.sh [CASES]
#
#   CASES   nodeflate (default: groups 1-11, i.e. every case but 12.* and 13.*,
#           which are permessage-deflate's) | quick (also without 9.*: what CI
#           runs) | all | patterns such as "1.*,5.*,7.1.*" | a JSON list.
#           Add deflate later with CASES=all or "12.*,13.*".
#
# Roles:
#   server  wstest fuzzingclient -> `switchboard serve` at ws://127.0.0.1:PORT/echo
#   client  wstest fuzzingserver -> scripts/autobahn-client-driver.sh, which runs
#           `switchboard connect --echo` once per case
#
# Verdict: every selected case must be OK. INFORMATIONAL passes; NON-STRICT,
# UNIMPLEMENTED and FAILED fail, and so does a case missing from the report.
# Exit status 0 only when both roles pass.
#
# Environment:
#   BUILD=release|debug   which build to use (default release)
#   SKIP_BUILD=1          do not run `swift build` (use the existing binary)
#   SWITCHBOARD_BIN       the binary (default: .build/$BUILD/switchboard); implies SKIP_BUILD
#   ROLES="server client" which roles to run
#   AUTOBAHN_TOOLS        the team's tools (default: ../shared/tools/autobahn, beside
#                         the clone; CI clones the repo with shared/ beside it)
#   AUTOBAHN_VENV         wstest venv (default /tmp/autobahn-venv; made by the tools'
#                         install.sh when missing)
#   REPORT_DIR            reports (default ./autobahn-reports): servers/ and clients/
#   TIMEOUT               bound per role in seconds (default 3600)
#   CASE_TIMEOUT          bound per client case in seconds (default 300)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

CASES="${1:-nodeflate}"
BUILD="${BUILD:-release}"
ROLES="${ROLES:-server client}"
export AUTOBAHN_TOOLS="${AUTOBAHN_TOOLS:-$REPO/../shared/tools/autobahn}"
export AUTOBAHN_VENV="${AUTOBAHN_VENV:-/tmp/autobahn-venv}"
REPORT_BASE="${REPORT_DIR:-$REPO/autobahn-reports}"
export TIMEOUT="${TIMEOUT:-3600}"
export CASE_TIMEOUT="${CASE_TIMEOUT:-300}"
AGENT="switchboard"

log() { printf '[autobahn.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

if [ ! -f "$AUTOBAHN_TOOLS/run-fuzzingclient.sh" ]; then
  die "Autobahn tools not found at $AUTOBAHN_TOOLS. They live in the team's shared/ folder
  (shared/tools/autobahn), which sits beside the clone on our machines and in CI.
  Point AUTOBAHN_TOOLS at a copy of that folder."
fi
AUTOBAHN_TOOLS="$(cd "$AUTOBAHN_TOOLS" && pwd)"

# --- the binary -------------------------------------------------------------
if [ -n "${SWITCHBOARD_BIN:-}" ]; then
  BIN="$SWITCHBOARD_BIN"
else
  if [ "${SKIP_BUILD:-0}" != "1" ]; then
    log "swift build -c $BUILD --product switchboard"
    swift build -c "$BUILD" --product switchboard
  fi
  BIN="$REPO/.build/$BUILD/switchboard"
fi
[ -x "$BIN" ] || die "no switchboard binary at $BIN"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
export SWITCHBOARD_BIN="$BIN"
log "binary: $BIN"

# --- wstest ------------------------------------------------------------------
if [ ! -x "$AUTOBAHN_VENV/bin/wstest" ]; then
  log "installing wstest into $AUTOBAHN_VENV"
  "$AUTOBAHN_TOOLS/install.sh" "$AUTOBAHN_VENV"
fi
export PYTHON="$AUTOBAHN_VENV/bin/python"

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# check REPORT_DIR SPEC: every selected case present and OK/INFORMATIONAL
check() {
  "$PYTHON" - "$1" "$2" "$AGENT" <<'EOF'
import json, sys
report_dir, spec_path, agent = sys.argv[1:4]
from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, CaseSetname, CaseBasename
from autobahntestsuite.caseset import CaseSet
spec = json.load(open(spec_path))
cs = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories)
selected = list(cs.parseSpecCases(spec))  # case ids such as "7.1.5"
try:
    results = json.load(open(report_dir + "/index.json")).get(agent, {})
except (OSError, ValueError) as e:
    print("check: no usable report in %s: %s" % (report_dir, e))
    sys.exit(1)
key = lambda c: tuple(int(x) for x in c.split("."))
bad = []
for cid in sorted(selected, key=key):
    r = results.get(cid)
    b = r.get("behavior") if r else "MISSING"
    if b not in ("OK", "INFORMATIONAL"):
        bad.append("%s %s" % (cid, b))
print("check: %d cases selected, %d in report, %d not OK" % (len(selected), len(results), len(bad)))
for line in bad:
    print("  not OK: " + line)
sys.exit(1 if bad else 0)
EOF
}

declare -A VERDICT=()
start=$(date +%s)
for role in $ROLES; do
  case "$role" in
    server)
      port="$(free_port)"
      dir="$REPORT_BASE/servers"
      log "role server: wstest fuzzingclient -> $BIN serve --port $port  (cases: $CASES)"
      set +e
      REPORT_DIR="$dir" AGENT="$AGENT" "$AUTOBAHN_TOOLS/run-fuzzingclient.sh" \
        "ws://127.0.0.1:$port/echo" "$CASES" -- "$BIN" serve --host 127.0.0.1 --port "$port"
      rc=$?
      set -e
      spec="$dir/fuzzingclient.json"
      ;;
    client)
      port="$(free_port)"
      dir="$REPORT_BASE/clients"
      log "role client: wstest fuzzingserver on port $port -> $BIN connect --echo  (cases: $CASES)"
      set +e
      REPORT_DIR="$dir" AGENT="$AGENT" "$AUTOBAHN_TOOLS/run-fuzzingserver.sh" \
        "$port" "$CASES" -- "$REPO/scripts/autobahn-client-driver.sh"
      rc=$?
      set -e
      spec="$dir/fuzzingserver.json"
      ;;
    *) die "unknown role '$role' (server, client)" ;;
  esac
  log "role $role: runner exit status $rc"
  if [ -f "$spec" ] && check "$dir" "$spec"; then
    VERDICT[$role]=PASS
  else
    VERDICT[$role]=FAIL
  fi
done

status=0
for role in $ROLES; do
  log "autobahn $role role ($CASES): ${VERDICT[$role]}   report: $REPORT_BASE/$([ "$role" = server ] && echo servers || echo clients)/index.html"
  [ "${VERDICT[$role]}" = PASS ] || status=1
done
log "total time: $(( $(date +%s) - start )) s"
exit "$status"
