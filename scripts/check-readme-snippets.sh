#!/usr/bin/env bash
# Builds every ```swift block of README.md as a program of its own, so that the README's
# examples keep compiling against the library as it changes (scripts/test.sh runs it).
#
#   scripts/check-readme-snippets.sh
#
# Each block becomes .readme-snippets/SnippetN/main.swift (not committed), exactly as written:
# a block carries its own imports, so that a reader can copy it whole. Package.swift adds one
# executable target per block when SWITCHBOARD_README_SNIPPETS=N is set, depending on every
# library product. Built, never run (the server examples serve forever).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
rm -rf .readme-snippets
count="$(python3 - <<'PY'
import os, re
text = open("README.md").read()
blocks = re.findall(r"^```swift\n(.*?)^```", text, flags=re.S | re.M)
for n, block in enumerate(blocks):
    os.makedirs(f".readme-snippets/Snippet{n}", exist_ok=True)
    with open(f".readme-snippets/Snippet{n}/main.swift", "w") as f:
        f.write(f"// README.md, swift block {n + 1} of {len(blocks)}\n{block}")
print(len(blocks))
PY
)"
[ "$count" -gt 0 ] || { echo "check-readme-snippets: no swift block in README.md" >&2; exit 1; }
failed=0
for n in $(seq 0 $((count - 1))); do
  if ! out="$(SWITCHBOARD_README_SNIPPETS="$count" swift build --product "ReadmeSnippet$n" 2>&1)"; then
    echo "$out" | grep -E "error" | head -20 >&2
    echo "check-readme-snippets: README.md swift block $((n + 1)) does not compile" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "check-readme-snippets: $count README.md swift blocks compile"
exit "$failed"
