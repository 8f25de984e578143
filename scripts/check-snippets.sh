#!/usr/bin/env bash
# Builds every ```swift block of README.md and of the DocC articles (*.docc/*.md) as a program
# of its own, so that the examples a reader copies keep compiling as the library changes
# (scripts/test.sh runs it).
#
#   scripts/check-snippets.sh
#
# Each block becomes .snippets/SnippetN/main.swift (not committed), exactly as written: a block
# carries its own imports, so that a reader can copy it whole. Package.swift adds one executable
# target per block when SWITCHBOARD_SNIPPETS=N is set, depending on every library product (and
# the few modules of our dependencies an example imports). All are built by one `swift build`;
# an error is reported at the Markdown file and line of its block. Built, never run (the server
# examples serve forever). Fragments that are not whole programs are ```text or indented.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
rm -rf .snippets
count="$(python3 - <<'PY'
import glob, json, os, re
sources = ["README.md"] + sorted(glob.glob("Sources/*/*.docc/*.md") + glob.glob("Plugins/*/*.docc/*.md") + glob.glob("Registry/*.docc/*.md"))
origins = []
for path in sources:
    text = open(path).read()
    for match in re.finditer(r"^```swift\n(.*?)^```", text, flags=re.S | re.M):
        n = len(origins)
        line = text.count("\n", 0, match.start()) + 2  # the block's first line of code
        os.makedirs(f".snippets/Snippet{n}", exist_ok=True)
        with open(f".snippets/Snippet{n}/main.swift", "w") as f:
            f.write(match.group(1))
        origins.append([path, line])
json.dump(origins, open(".snippets/origins.json", "w"))
print(len(origins))
PY
)"
[ "$count" -gt 0 ] || { echo "check-snippets: no swift block found" >&2; exit 1; }
if out="$(SWITCHBOARD_SNIPPETS="$count" swift build 2>&1)"; then
  echo "check-snippets: $count swift blocks compile (README.md and the DocC articles)"
  exit 0
fi
# Point each error at its Markdown file and line.
echo "$out" | python3 -c '
import json, re, sys
origins = json.load(open(".snippets/origins.json"))
seen = set()
for line in sys.stdin:
    m = re.search(r"\.snippets/Snippet(\d+)/main\.swift:(\d+):(\d+): (error: .*)", line)
    if m and m.group(0) not in seen:
        seen.add(m.group(0))
        path, first = origins[int(m.group(1))]
        print(f"{path}:{first + int(m.group(2)) - 1}:{m.group(3)}: {m.group(4)}", file=sys.stderr)
    elif not m and line.startswith("error:") and "cancelled" not in line and "exit code" not in line:
        print(line.rstrip(), file=sys.stderr)
'
echo "check-snippets: a swift block does not compile (above: its file and line)" >&2
exit 1
