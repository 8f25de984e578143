#!/usr/bin/env bash
# Creates Benchmarks/Picows/.venv with the pinned picows and uvloop (requirements.txt).
#
#   Benchmarks/Picows/setup.sh                 # PYTHON=python3.12 to pick another interpreter
#
# Needs Python 3.9 or later with venv (Debian: apt-get install -y python3-venv) and PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -c 'import picows, uvloop, sys; print(f"picows {picows.__version__}, uvloop {uvloop.__version__}, Python {sys.version.split()[0]} in .venv", file=sys.stderr)'
