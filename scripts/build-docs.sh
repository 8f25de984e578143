#!/usr/bin/env bash
# Builds the DocC documentation of every public module, warnings as errors (scripts/test.sh
# runs it): a symbol link that no longer resolves, a parameter left undocumented, an article
# that names a type that is gone, all fail the run.
#
#   scripts/build-docs.sh            # archives under .build/plugins/Swift-DocC/outputs/
#
# The catalogues are Sources/*/*.docc, Plugins/*/*.docc and Registry/*.docc. To read the
# result in a browser: swift package --disable-sandbox preview-documentation --target Switchboard
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
MODULES=(SwitchboardCore Switchboard SwitchboardRegistry PerMessageDeflate Multiplex JSONRPC SOAP XMPP)
targets=()
for module in "${MODULES[@]}"; do targets+=(--target "$module"); done
log="$(mktemp "${TMPDIR:-/tmp}/build-docs.XXXXXX")"
trap 'rm -f "$log"' EXIT
# --disable-sandbox: the plug-in writes its archives under .build.
if swift package --disable-sandbox generate-documentation "${targets[@]}" --warnings-as-errors >"$log" 2>&1; then
  echo "build-docs: ${#MODULES[@]} modules documented, no warnings"
  exit 0
fi
grep -E -A6 "^(warning|error):" "$log" | grep -v "^\[" | grep -v "is not used by any target" >&2 || tail -40 "$log" >&2
echo "build-docs: DocC reported problems (above)" >&2
exit 1
