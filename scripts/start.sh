#!/usr/bin/env bash
# Quick start: set up, then run Conversa (the desktop app; headless server without a display).
set -euo pipefail
cd "$(dirname "$0")/.."
CONVERSA_EXTRAS=desktop bash scripts/setup.sh
exec .venv/bin/conversa "$@"
