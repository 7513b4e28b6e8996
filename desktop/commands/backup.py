"""`conversa backup FILE | --rotate DIR` and `conversa restore FILE`.

A backup only reads the data (a consistent snapshot): it runs beside a running server. A
restore rewrites the data and maybe the keys, so it takes the data folder's lock and refuses
while a server runs (the server's own restore is `POST /backups/{id}/restore`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from desktop.app import command_lock, open_store, passphrase
from desktop.config import Settings
from desktop.errors import InvalidInput
from desktop.store import backups
from desktop.store.database import DB_FILE
from desktop.store.errors import KeysUnavailable
from desktop.store.keys import KeyStore


def backup(settings: Settings, args: argparse.Namespace) -> int:
    data = settings.data_path
    if not (data / DB_FILE).exists():
        raise InvalidInput(f"no Conversa data in {data}")
    if bool(args.file) == bool(args.rotate):
        raise InvalidInput("give either FILE or --rotate DIR")
    dest = Path(args.file) if args.file else Path(args.rotate) / backups.new_name()
    dest = dest.expanduser().resolve()
    keys = KeyStore.open(data, passphrase(settings))  # reads only: no lock needed
    try:
        info = backups.create(data, keys, dest, kind="auto" if args.rotate else "manual")
    finally:
        keys.close()
    print(f"backup written and verified: {dest} ({info['size']} bytes)")
    print(f"key store copy beside it (needed to restore on another machine): {dest.parent / info['keys_copy']}")
    if args.rotate:
        removed = backups.rotate(dest.parent)
        print(f"rotation: kept the newest of the last 7 days and 4 weeks; removed {len(removed)} older backup(s)")
    return 0


def restore(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist")
    recovery = None
    if args.recovery_key_stdin:
        recovery = sys.stdin.readline().strip()
    elif args.recovery_key:
        recovery = getpass.getpass("Recovery key of the install that made the backup: ").strip()
    data = settings.data_path
    data.mkdir(parents=True, exist_ok=True)
    secret = passphrase(settings)
    with command_lock(settings, "restore"):
        live = None
        if KeyStore.exists(data):
            try:
                live = KeyStore.open(data, secret)
            except KeysUnavailable:
                live = None  # lost or other keys: the backup's key store copy is needed
        try:
            prepared = backups.prepare_restore(
                data,
                path,
                live,
                passphrase=secret,
                keys_copy=Path(args.keys).expanduser() if args.keys else None,
                recovery_key=recovery,
            )
        finally:
            if live is not None:
                live.close()
        try:
            had_data = (data / DB_FILE).exists()
            if prepared.staged_keys is not None:
                backups.install_keys(prepared, data)
            store = open_store(settings, upgrade_keys=True)
            try:
                if had_data:  # what is replaced stays on disk (sealed as it was) until deleted
                    store.backup(backups.folder(data) / "pre-restore" / f"{path.stem}-replaced.db")
                outcome = backups.restore_into(store, prepared)
                from desktop.store import insights

                insights.mark_abandoned(store)
            finally:
                store.close()
        finally:
            prepared.discard()
    print(f"restored {path.name}: integrity {prepared.check['integrity']}, sample {prepared.check.get('sample')}")
    if outcome["erased_contacts_dropped"]:
        print(f"{outcome['erased_contacts_dropped']} contact(s) erased since the backup stay erased")
    if prepared.staged_keys is not None:
        print("the key store came from the backup's copy; the keys it replaced were kept as *.before-restore-*")
    return 0
