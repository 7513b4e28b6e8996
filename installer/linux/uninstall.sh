#!/usr/bin/env bash
# Removes what installer/linux/install.sh added: the venv, the menu entry, the icon, autostart
# and the `conversa` link. Conversations, contacts, keys and models stay unless --purge is given
# (and confirmed by typing DELETE): they cannot be brought back after that.
set -euo pipefail

PURGE=0
case "${1:-}" in
  "") ;;
  --purge) PURGE=1 ;;
  *) echo "usage: uninstall.sh [--purge]" >&2; exit 2 ;;
esac

XDG_DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
XDG_CONFIG="${XDG_CONFIG_HOME:-$HOME/.config}"
DATA="$XDG_DATA/conversa"

# A running Conversa holds an flock on server.lock (desktop/store/data_dir_lock.py).
if [ -f "$DATA/server.lock" ] && command -v flock >/dev/null && ! flock -n "$DATA/server.lock" true; then
  echo "uninstall: Conversa is running: quit it (tray icon → Quit) first." >&2
  exit 1
fi

if [ "$PURGE" = 1 ]; then
  echo "This erases ALL Conversa data in $DATA: conversations, contacts, keys, models and backups."
  printf 'Type DELETE to confirm: '
  read -r answer || answer=""
  if [ "$answer" != DELETE ]; then
    echo "Nothing was removed."
    exit 1
  fi
fi

rm -f "$XDG_DATA/applications/conversa.desktop" "$XDG_CONFIG/autostart/conversa.desktop" \
  "$XDG_DATA/icons/hicolor/scalable/apps/conversa.svg"
if [ -L "$HOME/.local/bin/conversa" ] && [ "$(readlink "$HOME/.local/bin/conversa")" = "$DATA/venv/bin/conversa" ]; then
  rm -f "$HOME/.local/bin/conversa"
fi
rm -rf "$DATA/venv"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$XDG_DATA/applications" || true

if [ "$PURGE" = 1 ]; then
  rm -rf "$DATA"
  echo "Conversa and all its data were removed."
else
  echo "Conversa was removed. Your data is kept in $DATA (uninstall.sh --purge erases it)."
fi
