#!/usr/bin/env bash
# Removes Conversa.app, the LaunchAgent and the venv; the data stays unless --purge is given
# and confirmed by typing DELETE.
set -euo pipefail
DATA="$HOME/Library/Application Support/conversa"
if [ "${1:-}" = --purge ]; then
  echo "This erases ALL Conversa data in $DATA: conversations, contacts, keys, models and backups."
  printf 'Type DELETE to confirm: '
  read -r answer || answer=""
  [ "$answer" = DELETE ] || { echo "Nothing was removed."; exit 1; }
fi
launchctl unload "$HOME/Library/LaunchAgents/app.conversa.plist" 2>/dev/null || true
rm -f "$HOME/Library/LaunchAgents/app.conversa.plist"
rm -rf "$HOME/Applications/Conversa.app" "$DATA/venv"
if [ "${1:-}" = --purge ]; then
  rm -rf "$DATA"
  echo "Conversa and all its data were removed."
else
  echo "Conversa was removed. Your data is kept in $DATA (uninstall.sh --purge erases it)."
fi
