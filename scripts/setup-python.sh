#!/usr/bin/env bash
# Create or refresh .venv with walletsync and its test extras. Fast when nothing changed:
# the install is redone only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
stamp=.venv/.installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    echo "walletsync: installing python3-venv (apt)" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv
    "$PYTHON" -m venv .venv
  fi
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "walletsync: installing Python dependencies into .venv" >&2
  log=.venv/install.log
  if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
         .venv/bin/python -m pip install --disable-pip-version-check -e '.[test]'; } >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "walletsync: pip install failed (full log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
