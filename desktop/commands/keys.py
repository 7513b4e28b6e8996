"""`conversa keys export|rotate|passwd|recover`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from desktop.app import command_lock, passphrase
from desktop.config import Settings
from desktop.errors import InvalidInput
from desktop.store.keys import KeyStore


def _new_passphrase() -> str:
    env = os.environ.get("CONVERSA_NEW_PASSPHRASE")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise InvalidInput("set CONVERSA_NEW_PASSPHRASE (empty for a key file / OS keyring) or run on a terminal")
    first = getpass.getpass("New passphrase (empty: OS keyring or key file): ")
    if first != getpass.getpass("Repeat: "):
        raise InvalidInput("the passphrases do not match")
    return first


def run(settings: Settings, args: argparse.Namespace) -> int:
    data = settings.data_path
    if args.action == "export":  # reads only
        store = KeyStore.open(data, passphrase(settings))
        try:
            print("# Conversa data key: anyone holding it can read your data. Keep it offline.", file=sys.stderr)
            print(store.export_data_key())
        finally:
            store.close()
        return 0
    # A running server keeps the data key in memory and would wrap new contact keys with the old one.
    with command_lock(settings, f"keys {args.action}"):
        return _rewrite(settings, args)


def _rewrite(settings: Settings, args: argparse.Namespace) -> int:
    data = settings.data_path
    if args.action == "recover":
        line = sys.stdin.readline() if args.recovery_key_stdin else getpass.getpass("Recovery key: ")
        store = KeyStore.recover(data, line.strip(), _new_passphrase())
        store.close()
        print("data key recovered and protected anew")
        return 0
    store = KeyStore.open(data, passphrase(settings), upgrade=True)
    try:
        if args.action == "rotate":
            recovery = store.rotate(passphrase(settings))
            print("New data key in place. NEW RECOVERY KEY (the old one no longer works):", file=sys.stderr)
            print(recovery)
        elif args.action == "passwd":
            method = store.rewrap(_new_passphrase())
            print(f"data key now protected by: {method}")
    finally:
        store.close()
    return 0
