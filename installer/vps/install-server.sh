#!/usr/bin/env bash
# Conversa team server on a Debian/Ubuntu VPS: a `conversa` system user, code and venv in
# /opt/conversa, data in /var/lib/conversa, a hardened systemd unit, a daily backup timer, and
# Caddy in front with automatic HTTPS for the team's domain. Run it as root from a checkout:
#
#   sudo installer/vps/install-server.sh                        # asks for domain and first admin
#   echo "$PASSWORD" | sudo installer/vps/install-server.sh --domain conversa.example.com.br --admin maria
#
# --prefix DIR --no-systemd installs the same files under DIR from this checkout, as the current
# user, without apt, users or systemctl (that is how the tests run it). Safe to run again: the
# passphrase, data and existing users are kept.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: install-server.sh [--domain D] [--admin NAME] [--port N] [--timezone Z] [--tls-internal]
                         [--find-links DIR] [--prefix DIR --no-systemd]
  --domain D        the team's public host name (DNS A/AAAA record pointing at this VPS)
  --admin NAME      first admin; the password is read from one line of stdin
  --port N          local port of the Conversa server behind Caddy (default 8765)
  --timezone Z      IANA zone the daily numbers count in (default America/Sao_Paulo)
  --tls-internal    Caddy's own CA instead of Let's Encrypt (a LAN without public DNS)
  --find-links DIR  extra folder of wheels for pip (e.g. a prebuilt llama-cpp-python)
  --prefix DIR      install under DIR instead of / (with --no-systemd)
  --no-systemd      do not create users, call apt or systemctl
EOF
}

die() { echo "install-server: $*" >&2; exit 1; }
step() { echo "==> $*"; }

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
DOMAIN="" ADMIN="" TIMEZONE=America/Sao_Paulo PORT=8765 PREFIX="" SYSTEMD=1 TLS="" FIND_LINKS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --domain) DOMAIN="${2:?}"; shift 2 ;;
    --admin) ADMIN="${2:?}"; shift 2 ;;
    --port) PORT="${2:?}"; shift 2 ;;
    --timezone) TIMEZONE="${2:?}"; shift 2 ;;
    --tls-internal) TLS="tls internal"; shift ;;
    --find-links) FIND_LINKS="$(cd "${2:?}" && pwd)"; shift 2 ;;
    --prefix) PREFIX="${2:?}"; shift 2 ;;
    --no-systemd) SYSTEMD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

if [ -n "$PREFIX" ]; then
  [ "$SYSTEMD" = 0 ] || die "--prefix goes with --no-systemd (a prefixed tree is not a system install)"
  mkdir -p "$PREFIX"
  PREFIX="$(cd "$PREFIX" && pwd)"
  RUN_USER="$(id -un)" RUN_GROUP="$(id -gn)"
else
  [ "$(id -u)" = 0 ] || die "run as root (sudo), or use --prefix DIR --no-systemd"
  RUN_USER=conversa RUN_GROUP=conversa
fi
CODE="$PREFIX/opt/conversa"
DATA="$PREFIX/var/lib/conversa"
ETC="$PREFIX/etc/conversa"
UNITS="$PREFIX/etc/systemd/system"
CADDYFILE="$PREFIX/etc/caddy/Caddyfile"
VENV="$CODE/venv"

# ---- questions -------------------------------------------------------------------------------
if [ -z "$DOMAIN" ]; then
  [ -t 0 ] || die "--domain is required when stdin is not a terminal"
  read -rp "Domain of the team server (e.g. conversa.example.com.br): " DOMAIN
fi
[[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$ ]] \
  || die "not a domain name: $DOMAIN"
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ] && [ "$PORT" -lt 65536 ] || die "not a port: $PORT"
if [ -z "$ADMIN" ]; then
  [ -t 0 ] || die "--admin is required when stdin is not a terminal"
  read -rp "First admin's username: " ADMIN
fi
if [ -t 0 ]; then
  read -rsp "Password for $ADMIN (8+ characters): " PASSWORD; echo
  read -rsp "Repeat the password: " again; echo
  [ "$PASSWORD" = "$again" ] || die "the passwords do not match"
else
  IFS= read -r PASSWORD || [ -n "$PASSWORD" ] || die "no password on stdin"
fi
# Checked now, not after the long pip install (on a re-run with an existing admin it is unused).
[ "${#PASSWORD}" -ge 8 ] || die "the admin's password needs at least 8 characters"

# ---- system packages and the service user -----------------------------------------------------
if [ "$SYSTEMD" = 1 ]; then
  step "system packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3 python3-venv python3-dev build-essential cmake caddy ca-certificates >/dev/null
  if ! id conversa >/dev/null 2>&1; then
    step "system user conversa"
    useradd --system --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin conversa
  fi
fi
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Conversa needs Python 3.11 or newer (found $("$PY" --version 2>&1)); Debian 12 or Ubuntu 24.04 have it"

# ---- code and venv (no desktop extra: no Tk, pystray or matplotlib on a server) --------------
step "code into $CODE/src"
mkdir -p "$CODE/src"
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./tests --exclude=node_modules \
  --exclude=./extension/dist --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ -cf - . \
  | tar -C "$CODE/src" -xf -
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
step "Python packages (the first time, llama-cpp-python compiles: several minutes; pip caches the build)"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# Same reason as scripts/setup.sh: AMX kernels die with "Illegal instruction" on VMs that
# advertise AMX in cpuid without enabling it (common on cloud VPSs).
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
if [ "$(uname -m)" = x86_64 ] && [[ "${CMAKE_ARGS:-}" != *CMAKE_C_FLAGS* ]]; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
fi
[ -z "$FIND_LINKS" ] || export PIP_FIND_LINKS="$FIND_LINKS"
"$VENV/bin/python" -m pip install --quiet "$CODE/src"
if "$VENV/bin/python" -c 'import sys; from llama_cpp import llama_cpp as l; sys.exit(b"AMX_INT8 = 1" not in l.llama_print_system_info())'; then
  echo "warning: llama-cpp-python has AMX kernels; if analyses die with 'Illegal instruction', rebuild it:" >&2
  echo "  CMAKE_ARGS=\"-DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'\" $VENV/bin/pip install --force-reinstall --no-deps --no-binary llama-cpp-python llama-cpp-python" >&2
fi

# ---- data folder, passphrase, settings ---------------------------------------------------------
step "data in $DATA"
mkdir -p "$DATA" "$ETC"
chmod 700 "$DATA"
[ "$SYSTEMD" = 0 ] || chown conversa:conversa "$DATA"
chmod 755 "$ETC"
ENV_FILE="$ETC/conversa.env"
if [ ! -s "$ENV_FILE" ]; then
  # The passphrase wraps the data key (a VPS has no OS keyring). Losing it means the recovery
  # key is the only way back in; it is never printed here.
  (umask 077 && printf 'CONVERSA_DATA_DIR=%s\nCONVERSA_PASSPHRASE=%s\n' "$DATA" \
    "$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')" >"$ENV_FILE")
fi
chmod 600 "$ENV_FILE"
[ "$SYSTEMD" = 0 ] || chown root:root "$ENV_FILE"

as_service() {  # run a conversa command as the service user, with the env file's settings
  (
    set -a; . "$ENV_FILE"; set +a
    export HOME="$DATA"
    if [ "$SYSTEMD" = 1 ]; then
      cd / && runuser -p -u conversa -- "$VENV/bin/conversa" "$@"
    else
      "$VENV/bin/conversa" "$@"
    fi
  )
}
as_service settings >/dev/null  # reads the settings: fails early on a broken settings.toml
# Caddy on this machine is the proxy whose X-Forwarded-For is believed.
(
  set -a; . "$ENV_FILE"; set +a
  SET_PY='import sys
from pathlib import Path
from desktop.config import save
save(Path(sys.argv[1]), {"host": "127.0.0.1", "port": int(sys.argv[2]), "public_hostname": sys.argv[3],
     "trusted_proxies": "127.0.0.1,::1", "timezone": sys.argv[4]})'
  if [ "$SYSTEMD" = 1 ]; then
    cd / && HOME="$DATA" runuser -p -u conversa -- "$VENV/bin/python" -c "$SET_PY" "$DATA" "$PORT" "$DOMAIN" "$TIMEZONE"
  else
    "$VENV/bin/python" -c "$SET_PY" "$DATA" "$PORT" "$DOMAIN" "$TIMEZONE"
  fi
)

step "default model"
as_service models pull default

step "first admin"
if as_service users list | awk '{print $2}' | grep -qx -- "$ADMIN"; then  # id, name, role, state
  echo "user $ADMIN already exists: kept"
else
  # On the first run this also creates the keys and prints the RECOVERY KEY once: keep it offline.
  printf '%s\n' "$PASSWORD" | as_service users add "$ADMIN" --role admin --password-stdin
fi
unset PASSWORD again

# ---- systemd units and Caddy -------------------------------------------------------------------
render() {  # render TEMPLATE DEST: fill the @PLACEHOLDERS@
  sed -e "s|@CODE@|$CODE|g" -e "s|@DATA@|$DATA|g" -e "s|@ETC@|$ETC|g" -e "s|@USER@|$RUN_USER|g" \
    -e "s|@GROUP@|$RUN_GROUP|g" -e "s|@DOMAIN@|$DOMAIN|g" -e "s|@PORT@|$PORT|g" \
    -e "${TLS:+s|@TLS@|$TLS|g}" -e "/@TLS@/d" \
    "$SRC/installer/vps/$1" >"$2.tmp"
  mv "$2.tmp" "$2"
}
step "systemd units in $UNITS"
mkdir -p "$UNITS" "$(dirname "$CADDYFILE")"
for unit in conversa.service conversa-backup.service conversa-backup.timer; do
  render "$unit" "$UNITS/$unit"
  chmod 644 "$UNITS/$unit"
done
if [ "$SYSTEMD" = 1 ] && [ -f "$CADDYFILE" ] && ! grep -q "written by installer/vps/install-server.sh" "$CADDYFILE"; then
  cp -p "$CADDYFILE" "$CADDYFILE.before-conversa"
  echo "the previous $CADDYFILE is kept as $CADDYFILE.before-conversa"
fi
step "Caddyfile $CADDYFILE"
render Caddyfile "$CADDYFILE"
chmod 644 "$CADDYFILE"
# An admin's shortcut for CLI commands (users add, pair, keys…) as the service user.
{
  echo '#!/bin/sh'
  echo '# The conversa CLI as the service user, with the root-only settings (run it as root).'
  echo "set -a; . '$ENV_FILE'; set +a"
  echo "export HOME='$DATA'"
  if [ "$SYSTEMD" = 1 ]; then
    echo "cd / && exec runuser -p -u conversa -- '$VENV/bin/conversa' \"\$@\""
  else
    echo "exec '$VENV/bin/conversa' \"\$@\""
  fi
} >"$CODE/conversa-admin"
chmod 700 "$CODE/conversa-admin"

if [ "$SYSTEMD" = 1 ]; then
  ln -sf "$CODE/conversa-admin" /usr/local/sbin/conversa
  step "starting conversa and the backup timer"
  systemctl daemon-reload
  systemctl enable --now conversa.service conversa-backup.timer
  systemctl restart conversa.service
  caddy validate --config "$CADDYFILE" --adapter caddyfile >/dev/null
  systemctl enable caddy >/dev/null 2>&1 || true
  systemctl reload-or-restart caddy
fi

cat <<EOF

Conversa is installed.
  server        https://$DOMAIN  (Caddy gets its certificate once DNS points here and ports 80/443 are open)
  data          $DATA   (settings.toml, database, keys, models, logs, backups)
  passphrase    $ENV_FILE   (root only; keep a copy offline with the recovery key)
  extension     each attendant's browser: \`conversa extension install\` on their computer, or the
                Conversa desktop app; then in the extension's Settings set the server to https://$DOMAIN
                and sign in with username and password.
  attendants    $( [ "$SYSTEMD" = 1 ] && echo "conversa" || echo "$CODE/conversa-admin") users add NAME --role attendant
EOF
