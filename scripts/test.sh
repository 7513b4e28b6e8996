#!/usr/bin/env bash
# Sets up everything the tests need (system packages, venv, model, npm dev tools) and runs
# every test: Python (real model, real SQLite, real server, real Chromium) and node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v trayer >/dev/null || need+=(trayer)
command -v xdotool >/dev/null || need+=(xdotool)  # the window and tray tests find and click windows
command -v import >/dev/null || need+=(imagemagick)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v caddy >/dev/null || need+=(caddy)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
# The window's text under Xvfb: DejaVu for its symbols (✓ ⟳ ●), colour emoji for chat text.
fc-list | grep -q "DejaVu Sans" || need+=(fonts-dejavu-core)
fc-list | grep -q "Noto Color Emoji" || need+=(fonts-noto-color-emoji)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

CONVERSA_EXTRAS=test,desktop bash scripts/setup.sh

echo "==> extension dev tools"
(cd extension && npm ci --no-audit --no-fund --loglevel=error)

echo "==> lint"
.venv/bin/ruff check .

echo "==> extension tests (node:test), both builds, Firefox lint"
(cd extension && npm test && npm run lint:firefox)

echo "==> Python tests"
.venv/bin/python -m pytest -q --durations=15 "$@"
