#!/usr/bin/env bash
# Fetch and unpack mod_pywebsocket 0.7.9 (the one multiplexing implementation
# that still runs, issue 5) for Tests/Interop/test_mux_interop.py, and check
# that its Python 2.7 can import it. Its code is never committed: it lives in
# a cache directory outside git (default .mpw-cache/, in .gitignore).
#
#   scripts/mpw-setup.sh            prints  MPW_DIR=<unpacked sdist root>
#                                           MPW_PYTHON=<python2.7 to run it with, absolute>
#
# Environment:
#   MPW_CACHE      cache directory (default: <repo>/.mpw-cache)
#   PIP_PYTHON     a Python 3 whose pip downloads the sdist (default: python3;
#                  the interop fixture passes the venv's interpreter)
#   MPW_PYENV_VERSION  pyenv version of Python 2.7 (default 2.7.18), run as
#                  PYENV_VERSION=$MPW_PYENV_VERSION python2.7
#
# Fails (exit 1, message on stderr) when Python 2.7 is missing, the download
# fails or the checksum does not match: the mux interop tests must not be
# skipped silently in CI.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=0.7.9
SHA256=98b7cf8f66df70777460466bf6bd3dcacec5683066ecab656d3e3fbb16943d86
CACHE="${MPW_CACHE:-$REPO/.mpw-cache}"
PIP_PYTHON="${PIP_PYTHON:-python3}"
PY2_VERSION="${MPW_PYENV_VERSION:-2.7.18}"
TARBALL="$CACHE/mod_pywebsocket-$VERSION.tar.gz"
DIR="$CACHE/mod_pywebsocket-$VERSION"

die() { echo "mpw-setup: $*" >&2; exit 1; }

# --- Python 2.7 (pyenv) ------------------------------------------------------
PY2=""
if out="$(PYENV_VERSION="$PY2_VERSION" python2.7 --version 2>&1)" && [[ "$out" == "Python 2.7."* ]]; then
  PY2="$(PYENV_VERSION="$PY2_VERSION" python2.7 -c 'import sys; print(sys.executable)')"
else
  cand="${PYENV_ROOT:-$HOME/.pyenv}/versions/$PY2_VERSION/bin/python2.7"
  if [ -x "$cand" ] && out="$("$cand" --version 2>&1)" && [[ "$out" == "Python 2.7."* ]]; then
    PY2="$cand"
  fi
fi
[ -n "$PY2" ] || die "Python 2.7 not found: 'PYENV_VERSION=$PY2_VERSION python2.7 --version' failed (${out:-no output}).
mod_pywebsocket $VERSION runs only under Python 2.7; these machines provide it through pyenv ($PY2_VERSION)."

# --- sdist, checksum-verified ------------------------------------------------
mkdir -p "$CACHE"
verify() { [ -f "$TARBALL" ] && [ "$(sha256sum "$TARBALL" | cut -d' ' -f1)" = "$SHA256" ]; }
if ! verify; then
  rm -f "$TARBALL"
  echo "mpw-setup: downloading mod_pywebsocket==$VERSION (sdist) into $CACHE" >&2
  "$PIP_PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      -d "$CACHE" "mod_pywebsocket==$VERSION" >&2 \
    || die "pip download mod_pywebsocket==$VERSION failed (with $PIP_PYTHON)"
  [ -f "$TARBALL" ] || die "pip did not produce $TARBALL"
  if ! verify; then
    got="$(sha256sum "$TARBALL" | cut -d' ' -f1)"
    rm -f "$TARBALL"
    die "checksum mismatch for mod_pywebsocket-$VERSION.tar.gz: got $got, want $SHA256"
  fi
fi

# --- unpacked tree, stamped with the checksum it came from -------------------
if [ "$(cat "$DIR/.sha256" 2>/dev/null)" != "$SHA256" ]; then
  rm -rf "$DIR" "$DIR.tmp"
  mkdir -p "$DIR.tmp"
  tar xzf "$TARBALL" --no-same-owner -C "$DIR.tmp"
  mv "$DIR.tmp/mod_pywebsocket-$VERSION" "$DIR"
  rmdir "$DIR.tmp"
  echo "$SHA256" > "$DIR/.sha256"
fi

# --- it imports under Python 2.7 ---------------------------------------------
( cd "$DIR" && PYTHONPATH="$DIR" "$PY2" -c \
    'import mod_pywebsocket.mux, mod_pywebsocket.standalone, test.mux_client_for_testing, test.test_endtoend' ) >&2 \
  || die "Python 2.7 ($PY2) cannot import mod_pywebsocket from $DIR"

echo "MPW_DIR=$DIR"
echo "MPW_PYTHON=$PY2"
