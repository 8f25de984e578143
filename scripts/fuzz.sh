#!/usr/bin/env bash
# Builds and runs one libFuzzer target (Fuzz/), with AddressSanitizer:
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]     e.g. scripts/fuzz.sh FuzzFrames 60
#   scripts/fuzz.sh all SECONDS                              every target, one after the other
#
# Targets: FuzzFrames (frame parser, message assembly, UTF-8), FuzzHandshake (HTTP head reader,
# server handshake evaluation, client response check), FuzzDeflate (permessage-deflate decoder,
# round trip), FuzzMux (a server's mux session), FuzzJSON (JSON parser, JSON-RPC message rules),
# FuzzXML (XML parser and writer round trip, SOAP envelope, fault and addressing readers),
# FuzzXMPP (XMPP's stream machine over a sequence of client messages: SASL, bind, stanzas).
#
# The corpus of each target is .fuzz/corpus/TARGET (not committed): seeded by scripts/fuzz-seeds.py
# from the shapes the tests and the Autobahn TestSuite's cases use, then grown by libFuzzer.
# Inputs that crashed are kept as regression tests in Tests/FuzzRegressions/TARGET/ (committed; none yet):
# every run replays them first. A crash leaves its input in .fuzz/artifacts/TARGET/.
# Build: release, in .build-fuzz (its own scratch path: every module is instrumented), linked with
# lld (gold fails on the sanitizer runtime here).
# Exit status: 0 when the run ends without a finding; libFuzzer's otherwise.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TARGETS=(FuzzFrames FuzzHandshake FuzzDeflate FuzzMux FuzzJSON FuzzXML FuzzXMPP)
target="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags]}"
seconds="${2:?usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags]}"
shift 2

if [ "$target" = all ]; then
  for t in "${TARGETS[@]}"; do "$0" "$t" "$seconds" "$@" || exit $?; done
  exit 0
fi
[[ " ${TARGETS[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target $target (${TARGETS[*]})" >&2; exit 2; }

echo "fuzz.sh: building $target (release, -sanitize=fuzzer,address)"
SWITCHBOARD_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product "$target" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -parse-as-library -Xswiftc -use-ld=lld >/dev/null
bin=".build-fuzz/release/$target"

corpus=".fuzz/corpus/$target"
artifacts=".fuzz/artifacts/$target"
regressions="Tests/FuzzRegressions/$target"
mkdir -p "$corpus" "$artifacts"
[ -n "$(ls -A "$corpus")" ] || python3 scripts/fuzz-seeds.py "$target" "$corpus"

# Every input that once crashed must pass now.
if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
  SWIFT_BACKTRACE=enable=no "$bin" -runs=0 "$regressions" >/dev/null 2>&1 || { echo "fuzz.sh: $target fails a regression input in $regressions" >&2; "$bin" -runs=0 "$regressions"; exit 1; }
fi

# -rss_limit_mb: a peer's input must not make us hold gigabytes; -timeout: nor stall a loop.
# -max_len: FuzzFrames' limits are 2 KiB frames and 4 KiB messages, and its inputs are fed in
# reads as small as one byte: past 4 KiB an input adds nothing but time (65 KiB inputs ran it
# at 600 executions a second instead of 10,000). The others take whole messages of up to 64 KiB.
max_len=65536
[ "$target" = FuzzFrames ] && max_len=4096
export SWIFT_BACKTRACE=enable=no  # the Swift backtracer and ASan deadlock over a crash
"$bin" "$corpus" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$@"
