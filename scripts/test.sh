#!/usr/bin/env bash
# Run every test of Switchboard, from the repository root:
#
#   scripts/test.sh
#
#   1. swift build            (debug)
#   2. swift test             (unit tests over the sans-I/O core, transport, plug-ins), then
#                             scripts/check-snippets.sh: every ```swift block of README.md and the DocC articles builds,
#                             scripts/build-docs.sh: every public module's DocC catalogue builds, warnings as errors,
#                             and `swift format lint --strict` over every tracked Swift file (.swift-format)
#   2b. adapters              Adapters/SwitchboardHummingbird and Adapters/SwitchboardVapor (each its own
#                             package): swift build, swift test (each example app serves its framework's
#                             HTTP routes and Switchboard routes on one port)
#   3. interop                pytest Tests/Interop against Python `websockets`
#                             zeep (SOAP) and Prosody (XMPP, Debian package), (venv .venv-interop from Tests/Interop/requirements.txt),
#                             and multiplexing against mod_pywebsocket 0.7.9 under pyenv's
#                             Python 2.7.18 (scripts/mpw-setup.sh fetches it into .mpw-cache/,
#                             sha256-checked, never committed; no Python 2.7 = those tests fail)
#   4. stress                 pytest Tests/Stress: load-and-abuse cases against `switchboard serve`
#                             (issue 17), each measuring the server's RSS and a well-behaved
#                             client; same venv as stage 3; prints a table (Tests/Stress/README.md)
#   5. browser                pytest Tests/Browser: headless Chromium (Debian chromium +
#                             chromium-driver, selenium from Tests/Browser/requirements.txt,
#                             installed into the same venv) loads /test from `switchboard
#                             serve` and echoes 10 B..1 MiB over permessage-deflate; Strophe.js (Debian
#                             libjs-strophe) logs two users in to serve's XMPP at /xmpp and exchanges
#                             presence and messages (Tests/Browser/test_strophe.py); the Hummingbird
#                             and Vapor adapters' example apps, by Python `websockets` and by Chromium
#                             (Tests/Browser/test_framework_adapters.py)
#   6. autobahn (quick)       scripts/autobahn.sh quick on the debug binary, both roles
#                             (every case but 9.*, 12.*, 13.*; the full run is
#                             scripts/autobahn.sh)
#   7. fuzz (short)           scripts/fuzz.sh all FUZZ_SECONDS (default 15 s per target): every
#                             libFuzzer target of Fuzz/ with AddressSanitizer, after replaying
#                             the inputs that once crashed (Tests/FuzzRegressions); long runs are
#                             `scripts/fuzz.sh TARGET SECONDS`, by hand
#
# Stages 2-7 all run even when one fails; the exit status is non-zero if any failed.
#
# Environment:
#   SKIP_SWIFT=1        skip swift build / swift test (use the existing debug binary)
#   SKIP_ADAPTERS=1     skip stage 2b (the browser stage's adapter tests then fail)
#   SKIP_INTEROP=1      skip stage 3
#   SKIP_STRESS=1       skip stage 4
#   SKIP_BROWSER=1      skip stage 5 (never in CI: .ci/run installs the browser)
#   SKIP_AUTOBAHN=1     skip stage 6
#   SKIP_FUZZ=1         skip stage 7
#   FUZZ_SECONDS        seconds per fuzz target in stage 7 (default 15)
#   AUTOBAHN_CASES      case selection for stage 6 (default quick)
#   STRESS_TABLE        where stage 4 writes its table (default: pytest's basetemp/stress-table.md)
#   PYTEST_ARGS         extra pytest arguments for stage 3, split on blanks (no quoting), e.g. "-k subprotocol -x"
#   STRESS_ARGS         the same for stage 4, e.g. "-k mux"
#   PYTHON              interpreter for the venv (default python3; 3.11 is what we test)
#   SWITCHBOARD_BIN, AUTOBAHN_TOOLS, AUTOBAHN_VENV: see scripts/autobahn.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-interop"
REQS="$REPO/Tests/Interop/requirements.txt"

say() { printf '\n=== %s ===\n' "$*"; }
declare -a RESULTS=()
FAILED=0
record() {  # record NAME STATUS
  if [ "$2" -eq 0 ]; then RESULTS+=("$1: ok"); else RESULTS+=("$1: FAILED (exit $2)"); FAILED=1; fi
}
ensure_venv() {  # the venv of stages 3 and 4, (re)created when Tests/Interop/requirements.txt changes
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$REQS" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "creating $VENV from $REQS"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
    echo "$want" > "$stamp"
  fi
}

# --- 1/2: Swift -------------------------------------------------------------
if [ "${SKIP_SWIFT:-0}" != "1" ]; then
  say "swift build"
  swift build   # nothing else can run without it: stop here on failure
  say "swift test"
  # Kept so the summary can repeat what failed: CI shows only the tail of the log.
  SWIFT_TEST_LOG="$(mktemp -t swift-test.XXXXXX.log)"
  set +e; swift test 2>&1 | tee "$SWIFT_TEST_LOG"; rc=${PIPESTATUS[0]}; set -e
  record "swift test" "$rc"
  say "Swift snippets (README.md, DocC articles)"
  set +e; "$REPO/scripts/check-snippets.sh"; rc=$?; set -e
  record "snippets compile" "$rc"
  say "DocC catalogues (warnings as errors)"
  set +e; "$REPO/scripts/build-docs.sh"; rc=$?; set -e
  record "docs build" "$rc"
  say "swift-format lint (.swift-format)"
  # Every tracked Swift file as `swift format format -i` leaves it: run that to fix a failure.
  set +e; git -C "$REPO" ls-files -z '*.swift' | (cd "$REPO" && xargs -0 swift format lint --strict --configuration .swift-format); rc=$?; set -e
  record "swift-format lint" "$rc"
fi

# --- 2b: the framework adapters (Adapters/, each a package of its own) ---------
if [ "${SKIP_ADAPTERS:-0}" != "1" ]; then
  for adapter in Hummingbird Vapor; do
    say "$adapter adapter (Adapters/Switchboard$adapter: swift build, swift test)"
    set +e
    (cd "$REPO/Adapters/Switchboard$adapter" && swift build --build-tests && swift test --skip-build)
    rc=$?
    set -e
    record "$adapter adapter (swift test)" "$rc"
  done
fi
export HUMMINGBIRD_EXAMPLE_BIN="${HUMMINGBIRD_EXAMPLE_BIN:-$REPO/Adapters/SwitchboardHummingbird/.build/debug/hummingbird-example}"
export VAPOR_EXAMPLE_BIN="${VAPOR_EXAMPLE_BIN:-$REPO/Adapters/SwitchboardVapor/.build/debug/vapor-example}"
BIN="${SWITCHBOARD_BIN:-$REPO/.build/debug/switchboard}"
[ -x "$BIN" ] || { echo "test.sh: no switchboard binary at $BIN" >&2; exit 1; }
export SWITCHBOARD_BIN="$BIN"

# --- 3: interop against Python websockets ----------------------------------
if [ "${SKIP_INTEROP:-0}" != "1" ]; then
  say "interop tests (pytest, Python websockets)"
  ensure_venv
  # mod_pywebsocket for Tests/Interop/test_mux_interop.py, fetched before pytest so the download
  # does not count against a test's timeout; on failure its fixture fails those tests with the reason.
  PIP_PYTHON="$VENV/bin/python" "$REPO/scripts/mpw-setup.sh" >/dev/null \
    || echo "test.sh: scripts/mpw-setup.sh failed: the mux interop tests will fail" >&2
  set +e
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfE Tests/Interop ${PYTEST_ARGS:-}
  rc=$?
  set -e
  [ "$rc" -eq 5 ] && echo "test.sh: pytest collected no test" >&2
  record "interop (pytest)" "$rc"
fi

# --- 4: load and abuse (issue 17) -------------------------------------------
if [ "${SKIP_STRESS:-0}" != "1" ]; then
  say "stress tests (pytest Tests/Stress: floods, bombs, churn, shutdown)"
  ensure_venv
  set +e
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfE Tests/Stress ${STRESS_ARGS:-}
  rc=$?
  set -e
  [ "$rc" -eq 5 ] && echo "test.sh: pytest collected no stress test" >&2
  record "stress (pytest)" "$rc"
fi

# --- 5: a real browser (headless Chromium) ---------------------------------
if [ "${SKIP_BROWSER:-0}" != "1" ]; then
  say "browser test (pytest + selenium, headless Chromium)"
  BREQS="$REPO/Tests/Browser/requirements.txt"
  bstamp="$VENV/.browser-requirements.sha256"
  bwant="$(sha256sum "$BREQS" | cut -d' ' -f1)"
  set +e
  rc=0
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    "$PYTHON" -m venv "$VENV" || rc=$?
  fi
  if [ "$rc" -eq 0 ] && [ "$(cat "$bstamp" 2>/dev/null)" != "$bwant" ]; then
    echo "installing $BREQS into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$BREQS" && echo "$bwant" > "$bstamp"
    rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfE Tests/Browser
    rc=$?
    [ "$rc" -eq 5 ] && echo "test.sh: pytest collected no browser test" >&2
  fi
  set -e
  record "browser (headless Chromium)" "$rc"
fi

# --- 6: Autobahn quick subset, both roles ---------------------------------------
if [ "${SKIP_AUTOBAHN:-0}" != "1" ]; then
  say "Autobahn TestSuite (${AUTOBAHN_CASES:-quick}), both roles"
  set +e
  TIMEOUT="${TIMEOUT:-1200}" CASE_TIMEOUT="${CASE_TIMEOUT:-60}" \
    "$REPO/scripts/autobahn.sh" "${AUTOBAHN_CASES:-quick}"
  rc=$?
  set -e
  record "autobahn (${AUTOBAHN_CASES:-quick})" "$rc"
fi

# --- 7: a short fuzzing run of every target ------------------------------------
if [ "${SKIP_FUZZ:-0}" != "1" ]; then
  say "fuzzing (scripts/fuzz.sh all ${FUZZ_SECONDS:-15})"
  set +e
  "$REPO/scripts/fuzz.sh" all "${FUZZ_SECONDS:-15}"
  rc=$?
  set -e
  record "fuzz (${FUZZ_SECONDS:-15} s per target)" "$rc"
fi

say "summary"
if [ -n "${SWIFT_TEST_LOG:-}" ] && grep -qE '✘|error:|Fatal error' "$SWIFT_TEST_LOG"; then
  echo "swift test failures (from $SWIFT_TEST_LOG):"
  grep -E '✘|error:|Fatal error' "$SWIFT_TEST_LOG" | grep -v ' error switchboard' | head -40
fi
for r in "${RESULTS[@]}"; do echo "  $r"; done
exit "$FAILED"
