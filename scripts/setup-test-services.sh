#!/usr/bin/env bash
# What the test suite needs besides Python: a private D-Bus + gnome-keyring (the real
# Secret Service keyring), redis-server, tmux (the app's copy tests), librsvg's rsvg-convert (a printed share
# page's QR drawn as a renderer draws it), and the npm packages of the interop tests
# (the official JS SDK; @foundry-rs/anvil, a local chain node, and @foundry-rs/cast and forge, the tools the rpc
# endpoint serves, each binary an optional dependency per platform; ethers; solc, the compiler forge uses offline).
# All from tests/interop/package-lock.json (npm ci): exact versions, nothing fetched but npm packages.
# Installs only what is missing, so a second run costs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v dbus-run-session >/dev/null || missing+=(dbus)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v tmux >/dev/null || missing+=(tmux)  # the app's copy tests run a private tmux server
command -v rsvg-convert >/dev/null || missing+=(librsvg2-bin)  # tests/backup/test_share_pages.py
if [ ${#missing[@]} -gt 0 ]; then
  echo "walletsync: installing ${missing[*]} (apt)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f tests/interop/package.json ]; then
  lock=tests/interop/package-lock.json
  stamp=tests/interop/node_modules/.installed
  want=$(cat tests/interop/package.json "$lock" 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "walletsync: installing npm packages for the interop tests" >&2
    # npm's cache and logs go to a throw-away dir (scripts/test points them into its HOME), never the
    # user's ~/.npm; and no update notice, funding or audit lines.
    if [ -z "${npm_config_cache:-}" ]; then
      npm_dir=$(mktemp -d)
      trap 'rm -rf "$npm_dir"' EXIT
      export npm_config_cache="$npm_dir/cache" npm_config_logs_dir="$npm_dir/logs"
    fi
    (cd tests/interop && npm_config_update_notifier=false npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
fi
