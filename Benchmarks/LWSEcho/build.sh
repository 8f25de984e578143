#!/usr/bin/env bash
# Builds lws-echo-server (issue 20's libwebsockets reference) into .build/.
#
#   Benchmarks/LWSEcho/build.sh        # needs gcc, pkg-config and libwebsockets-dev (4.x)
#
# On Debian: apt-get install -y gcc pkg-config libwebsockets-dev
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v pkg-config >/dev/null || { echo "build.sh: pkg-config not found (apt-get install -y pkg-config)" >&2; exit 2; }
pkg-config --exists libwebsockets || { echo "build.sh: libwebsockets not found (apt-get install -y libwebsockets-dev)" >&2; exit 2; }
version="$(pkg-config --modversion libwebsockets)"
case "$version" in 4.*) ;; *) echo "build.sh: libwebsockets $version; 4.x expected" >&2; exit 2 ;; esac
mkdir -p .build
# shellcheck disable=SC2046
gcc -O2 -std=gnu11 -Wall -Wextra -o .build/lws-echo-server lws-echo-server.c \
  $(pkg-config --cflags --libs libwebsockets)
echo "built .build/lws-echo-server against libwebsockets $version" >&2
