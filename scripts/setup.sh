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
# AMX kernels are left out: on VMs that expose AMX in cpuid without enabling its register
# state (Firecracker, some clouds) they die with "Illegal instruction" on the first batch.
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
if [ "$(uname -m)" = x86_64 ] && [[ "${CMAKE_ARGS:-}" != *CMAKE_C_FLAGS* ]]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
fi
has_amx() {
  .venv/bin/python -c 'import sys; from llama_cpp import llama_cpp as l; sys.exit(b"AMX_INT8 = 1" not in l.llama_print_system_info())'
}
.venv/bin/python -m pip install --quiet -e ".[${CONVERSA_EXTRAS:-desktop}]"
if has_amx; then
  # a wheel built earlier with AMX sits in pip's cache: rebuild it once without
  echo "==> rebuilding llama-cpp-python without AMX kernels (a few minutes)"
  .venv/bin/python -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet --force-reinstall --no-deps --no-binary llama-cpp-python \
    "$(.venv/bin/python -c 'import importlib.metadata as m; print("llama-cpp-python==" + m.version("llama-cpp-python"))')"
  if has_amx; then
    echo "warning: llama-cpp-python still has AMX kernels; if analysis dies with 'Illegal instruction'," >&2
    echo "         reinstall it with CMAKE_ARGS=\"-DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'\"" >&2
  fi
fi
echo "==> default model"
.venv/bin/conversa models pull default
echo "==> checking the model (the first time, also prepares the built-in label examples: about a minute)"
.venv/bin/conversa models test
