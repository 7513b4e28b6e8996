#!/usr/bin/env bash
# Creates .venv, installs Conversa (pip's cache is kept, so llama-cpp-python builds once per
# machine) and fetches the default model into the data dir. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Conversa needs Python 3.11 or newer (found $($PY --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
echo "==> installing Python packages (the first time, llama-cpp-python compiles: a few minutes)"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${CONVERSA_EXTRAS:-test}]"
echo "==> default model"
.venv/bin/conversa models pull default
echo "==> checking the model (the first time, also prepares the built-in label examples: about a minute)"
.venv/bin/conversa models test
