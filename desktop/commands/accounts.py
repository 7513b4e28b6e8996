"""`conversa users …`, `conversa devices …`, `conversa pair`."""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from desktop import validation
from desktop.app import open_store
from desktop.auth import hash_password, new_pairing_code
from desktop.config import Settings
from desktop.errors import InvalidInput, NotFound
from desktop.sessions import PAIRING_TTL
from desktop.store import accounts


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return validation.password(line[:-1] if line.endswith("\n") else line)
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask the password on: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise InvalidInput("the passwords do not match")
    return validation.password(first)


def _user(store, name: str) -> dict:
    row = accounts.user_by_name(store, name)
    if not row:
        raise NotFound(f"no user named {name!r}")
    return row


def users(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    try:
        if args.action == "add":
            name = validation.username(args.name)
            pw = read_password(args.password_stdin)
            user = accounts.add_user(store, name, args.role, hash_password(pw))
            with store.transaction():
                accounts.audit(store, None, "user.add", user["id"], args.role)
            print(f"created {args.role} {name} ({user['id']})")
        elif args.action == "list":
            for u in accounts.users(store):
                state = "disabled" if u["disabled"] else "active"
                print(f"{u['id']}  {u['username']:<24} {u['role']:<10} {state}")
        elif args.action == "passwd":
            row = _user(store, args.name)
            accounts.update_user(store, row["id"], pw_hash=hash_password(read_password(args.password_stdin)))
            print(f"password of {args.name} changed")
        elif args.action == "disable":
            row = _user(store, args.name)
            accounts.update_user(store, row["id"], disabled=1)
            print(f"{args.name} disabled; their devices are signed out")
    finally:
        store.close()
    return 0


def devices(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    try:
        if args.action == "list":
            for d in accounts.devices(store):
                state = "revoked" if d["revoked_at"] else "active"
                seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(d["last_seen"] or d["created_at"]))
                print(f"{d['id']}  {d['username']:<20} {d['name'][:30]:<30} {state:<8} last seen {seen}")
        elif args.action == "revoke":
            accounts.revoke_device(store, args.device_id)
            print(f"device {args.device_id} signed out")
    finally:
        store.close()
    return 0


def pair(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    try:
        if args.user:
            user = _user(store, args.user)
        else:
            admins = [u for u in accounts.users(store) if u["role"] == "admin" and not u["disabled"]]
            if len(admins) != 1:
                raise InvalidInput(
                    "say which user the device signs in as: --user NAME"
                    if admins
                    else "no admin exists yet: run `conversa users add NAME --role admin` first"
                )
            user = admins[0]
        code = new_pairing_code()
        accounts.add_pairing_code(store, user["id"], code, PAIRING_TTL)
        print(code)
        print(
            f"Type this code in the Conversa extension's popup within {PAIRING_TTL // 60} minutes "
            f"(signs in as {user['username']}).",
            file=sys.stderr,
        )
    finally:
        store.close()
    return 0
