#!/usr/bin/env bash
# Conversa on macOS, for the current user: a venv in Conversa's data folder, llama-cpp-python
# built with Metal (the GPU of Apple silicon), the default model, ~/Applications/Conversa.app
# and, with --autostart, a LaunchAgent that starts it at login.
#
#   installer/macos/install.sh [--autostart]
#
# Needs Python 3.11+ (python.org or Homebrew) and the Xcode command line tools
# (`xcode-select --install`). Not run in Conversa's CI (no Mac there): see installer/README.md.
set -euo pipefail
die() { echo "install: $*" >&2; exit 1; }
step() { echo "==> $*"; }

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
AUTOSTART=0
[ "${1:-}" = --autostart ] && AUTOSTART=1
DATA="$HOME/Library/Application Support/conversa"   # platformdirs' user data dir on macOS
VENV="$DATA/venv"
APP="$HOME/Applications/Conversa.app"
PY="${PYTHON:-python3}"

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Conversa needs Python 3.11 or newer"
"$PY" -c 'import tkinter' 2>/dev/null || die "this Python has no Tk: use python.org's installer or 'brew install python-tk'"
xcode-select -p >/dev/null 2>&1 || die "install the command line tools first: xcode-select --install"

step "Python packages into $VENV (llama-cpp-python compiles with Metal: a few minutes)"
mkdir -p "$DATA" && chmod 700 "$DATA"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
CMAKE_ARGS="-DGGML_METAL=on" "$VENV/bin/python" -m pip install --quiet "$SRC[desktop]"

step "default model, on the GPU"
"$VENV/bin/conversa" models pull default
# n_gpu_layers -1: every layer on Metal (the default 0 keeps inference on the CPU).
"$VENV/bin/python" -c 'import sys; from pathlib import Path; from desktop.config import save
save(Path(sys.argv[1]), {"n_gpu_layers": -1})' "$DATA"

step "$APP"
mkdir -p "$APP/Contents/MacOS" "$APP/Contents/Resources"
cat >"$APP/Contents/MacOS/Conversa" <<SH
#!/bin/sh
exec "$VENV/bin/conversa"
SH
chmod +x "$APP/Contents/MacOS/Conversa"
ICONSET="$(mktemp -d)/conversa.iconset"
mkdir -p "$ICONSET"
for size in 16 32 128 256 512; do
  sips -s format png -z "$size" "$size" "$SRC/installer/macos/conversa-512.png" --out "$ICONSET/icon_${size}x${size}.png" >/dev/null
done
iconutil -c icns "$ICONSET" -o "$APP/Contents/Resources/conversa.icns"
sed "s|@VERSION@|$("$VENV/bin/conversa" --version | awk '{print $2}')|" "$SRC/installer/macos/Info.plist" \
  >"$APP/Contents/Info.plist"

if [ "$AUTOSTART" = 1 ]; then
  mkdir -p "$HOME/Library/LaunchAgents"
  sed "s|@APP@|$APP|g" "$SRC/installer/macos/app.conversa.plist" >"$HOME/Library/LaunchAgents/app.conversa.plist"
  launchctl load -w "$HOME/Library/LaunchAgents/app.conversa.plist" 2>/dev/null || true
fi

step "browser extension"
"$VENV/bin/conversa" extension install
echo
echo "Conversa is installed: open it from ~/Applications (Conversa.app)."
