#!/usr/bin/env bash
# Builds ws-load, the C echo load generator, into .build/ (git-ignored).
#
#   Benchmarks/LoadGen/build.sh        # needs gcc; Linux only (epoll)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v gcc >/dev/null || { echo "build.sh: gcc not found (apt-get install -y gcc)" >&2; exit 2; }
mkdir -p .build
gcc -O2 -std=gnu11 -Wall -Wextra -o .build/ws-load ws-load.c
echo "built Benchmarks/LoadGen/.build/ws-load" >&2
