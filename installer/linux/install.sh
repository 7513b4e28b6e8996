#!/usr/bin/env bash
# Conversa on a Linux desktop, for the current user (no root): a venv in Conversa's data folder,
# the default model, a menu entry with its icon, optionally started at login.
#
#   installer/linux/install.sh [--autostart] [--find-links DIR]
#
# Run it from a checkout (the code installed is this checkout's). Safe to run again: it upgrades
# the code and keeps the data. installer/linux/uninstall.sh removes it.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: install.sh [--autostart] [--find-links DIR]
  --autostart       start Conversa (tray icon and server) when you log in
  --find-links DIR  extra folder of wheels for pip (e.g. a prebuilt llama-cpp-python)
EOF
}
die() { echo "install: $*" >&2; exit 1; }
step() { echo "==> $*"; }

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
AUTOSTART=0
while [ $# -gt 0 ]; do
  case "$1" in
    --autostart) AUTOSTART=1; shift ;;
    --find-links) export PIP_FIND_LINKS="$(cd "${2:?}" && pwd)"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

# Conversa's data folder is platformdirs' user data dir: $XDG_DATA_HOME/conversa.
XDG_DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
XDG_CONFIG="${XDG_CONFIG_HOME:-$HOME/.config}"
DATA="$XDG_DATA/conversa"
VENV="$DATA/venv"
PY="${PYTHON:-python3}"

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Conversa needs Python 3.11 or newer (found $("$PY" --version 2>&1))"
"$PY" -c 'import venv, ensurepip' 2>/dev/null \
  || die "Python's venv module is missing: install it (Debian/Ubuntu: sudo apt install python3-venv)"
"$PY" -c 'import tkinter' 2>/dev/null \
  || die "Tk is missing for the desktop window: install it (Debian/Ubuntu: sudo apt install python3-tk)"
command -v cc >/dev/null && command -v cmake >/dev/null \
  || die "llama-cpp-python is compiled once: install a compiler and CMake (Debian/Ubuntu: sudo apt install build-essential cmake)"

step "Python packages into $VENV (the first time, llama-cpp-python compiles: a few minutes)"
mkdir -p "$DATA"
chmod 700 "$DATA"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# As in scripts/setup.sh: no AMX kernels, which die with "Illegal instruction" on machines and
# VMs that advertise AMX without enabling it.
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
if [ "$(uname -m)" = x86_64 ] && [[ "${CMAKE_ARGS:-}" != *CMAKE_C_FLAGS* ]]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
fi
has_amx() {
  "$VENV/bin/python" -c 'import sys; from llama_cpp import llama_cpp as l; sys.exit(b"AMX_INT8 = 1" not in l.llama_print_system_info())'
}
"$VENV/bin/python" -m pip install --quiet "$SRC[desktop]"
if has_amx; then  # a wheel built earlier with AMX sat in pip's cache: rebuild it once without
  step "rebuilding llama-cpp-python without AMX kernels"
  "$VENV/bin/python" -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
  "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
fi

step "default model"
"$VENV/bin/conversa" models pull default

step "menu entry"
mkdir -p "$XDG_DATA/applications" "$XDG_DATA/icons/hicolor/scalable/apps" "$HOME/.local/bin"
cp "$SRC/installer/linux/conversa.svg" "$XDG_DATA/icons/hicolor/scalable/apps/conversa.svg"
sed "s|@VENV@|$VENV|g" "$SRC/installer/linux/conversa.desktop" >"$XDG_DATA/applications/conversa.desktop"
ln -sf "$VENV/bin/conversa" "$HOME/.local/bin/conversa"
if [ "$AUTOSTART" = 1 ]; then
  mkdir -p "$XDG_CONFIG/autostart"
  cp "$XDG_DATA/applications/conversa.desktop" "$XDG_CONFIG/autostart/conversa.desktop"
fi
command -v update-desktop-database >/dev/null && update-desktop-database -q "$XDG_DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$XDG_DATA/icons/hicolor" || true

step "browser extension"
"$VENV/bin/conversa" extension install

echo
echo "Conversa is installed: open it from the applications menu (or run \`conversa\`)."
[ "$AUTOSTART" = 0 ] || echo "It starts when you log in (remove with installer/linux/uninstall.sh)."
case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) echo "Add ~/.local/bin to PATH to use the \`conversa\` command." ;; esac
