"""Users, devices, refresh tokens and pairing codes (secrets stored only as hashes)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from desktop.errors import Conflict
from desktop.store.database import Store, new_id
from desktop.store.errors import RecordNotFound

ROLES = ("admin", "attendant")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(store: Store, username: str, role: str, pw_hash: str) -> dict[str, Any]:
    uid = new_id("u")
    with store.transaction():
        if store.q1("SELECT 1 FROM users WHERE username=?", (username,)):
            raise Conflict(f"user {username!r} already exists", code="user_exists")
        store.conn.execute(
            "INSERT INTO users(id, username, role, pw_hash, disabled, created_at) VALUES (?,?,?,?,0,?)",
            (uid, username, role, pw_hash, time.time()),
        )
    return user(store, uid)


def user(store: Store, user_id: str) -> dict[str, Any]:
    row = store.q1("SELECT id, username, role, disabled, created_at FROM users WHERE id=?", (user_id,))
    if not row:
        raise RecordNotFound("user not found")
    row["disabled"] = bool(row["disabled"])
    return row


def user_exists(store: Store, user_id: str) -> bool:
    return store.q1("SELECT 1 FROM users WHERE id=?", (user_id,)) is not None


def user_by_name(store: Store, username: str) -> dict[str, Any] | None:
    return store.q1("SELECT * FROM users WHERE username=?", (username,))


def users(store: Store) -> list[dict[str, Any]]:
    rows = store.q("SELECT id, username, role, disabled, created_at FROM users ORDER BY created_at")
    for r in rows:
        r["disabled"] = bool(r["disabled"])
    return rows


def count_users(store: Store) -> int:
    return store.q1("SELECT count(*) AS n FROM users")["n"]


def update_user(store: Store, user_id: str, **changes: Any) -> None:
    allowed = {k: v for k, v in changes.items() if k in ("role", "pw_hash", "disabled")}
    if not allowed:
        return
    with store.transaction():
        cols = ", ".join(f"{k}=?" for k in allowed)
        cur = store.conn.execute(f"UPDATE users SET {cols} WHERE id=?", (*allowed.values(), user_id))
        if cur.rowcount == 0:
            raise RecordNotFound("user not found")
        if changes.get("disabled"):
            store.conn.execute(
                "UPDATE devices SET revoked_at=? WHERE user_id=? AND revoked_at IS NULL", (time.time(), user_id)
            )


def replace_pw_hash(store: Store, user_id: str, old_hash: str, new_hash: str) -> bool:
    """Store a re-made hash of the same password, unless the password changed meanwhile."""
    with store.transaction():
        cur = store.conn.execute("UPDATE users SET pw_hash=? WHERE id=? AND pw_hash=?", (new_hash, user_id, old_hash))
    return cur.rowcount == 1


# -- devices and refresh tokens ------------------------------------------------------
def add_device(store: Store, user_id: str, name: str, origin: str | None, refresh_secret: str, ttl: float) -> str:
    did = new_id("d")
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO devices(id, user_id, name, origin, created_at, last_seen) VALUES (?,?,?,?,?,?)",
            (did, user_id, name[:100], origin, now, now),
        )
        store.conn.execute(
            "INSERT INTO refresh_tokens(hash, device_id, created_at, expires_at) VALUES (?,?,?,?)",
            (token_hash(refresh_secret), did, now, now + ttl),
        )
    return did


def rotate_refresh(store: Store, old_secret: str, new_secret: str, ttl: float) -> dict[str, Any] | None:
    """Swap a refresh token for a new one. Returns the device, or None when the token is unknown,
    expired, or already used; a used token revokes its device (it was stolen or replayed)."""
    now = time.time()
    with store.transaction():
        row = store.q1(
            "SELECT t.*, d.user_id, d.revoked_at FROM refresh_tokens t JOIN devices d ON d.id=t.device_id "
            "WHERE t.hash=?",
            (token_hash(old_secret),),
        )
        if not row or row["revoked_at"] is not None:
            return None
        if row["used_at"] is not None:
            store.conn.execute("UPDATE devices SET revoked_at=? WHERE id=?", (now, row["device_id"]))
            store.conn.execute(
                "INSERT INTO audit_log(at, user_id, action, target, detail) VALUES (?,?,?,?,?)",
                (now, row["user_id"], "device.revoked_refresh_reuse", row["device_id"], ""),
            )
            return {"reused": True, "device_id": row["device_id"]}
        if row["expires_at"] < now:
            return None
        store.conn.execute("UPDATE refresh_tokens SET used_at=? WHERE hash=?", (now, row["hash"]))
        store.conn.execute(
            "INSERT INTO refresh_tokens(hash, device_id, created_at, expires_at) VALUES (?,?,?,?)",
            (token_hash(new_secret), row["device_id"], now, now + ttl),
        )
        store.conn.execute("UPDATE devices SET last_seen=? WHERE id=?", (now, row["device_id"]))
    return {"reused": False, "device_id": row["device_id"], "user_id": row["user_id"]}


def refresh_usable(store: Store, secret: str) -> bool:
    """The refresh token is unused, unexpired, and its device and user are active."""
    row = store.q1(
        "SELECT t.used_at, t.expires_at, d.revoked_at, u.disabled FROM refresh_tokens t "
        "JOIN devices d ON d.id=t.device_id JOIN users u ON u.id=d.user_id WHERE t.hash=?",
        (token_hash(secret),),
    )
    return (
        bool(row)
        and row["used_at"] is None
        and row["expires_at"] >= time.time()
        and row["revoked_at"] is None
        and not row["disabled"]
    )


def device_active(store: Store, device_id: str) -> bool:
    row = store.q1(
        "SELECT d.revoked_at, u.disabled FROM devices d JOIN users u ON u.id=d.user_id WHERE d.id=?", (device_id,)
    )
    return bool(row) and row["revoked_at"] is None and not row["disabled"]


def revoke_device(store: Store, device_id: str) -> None:
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE devices SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (time.time(), device_id)
        )
        if cur.rowcount == 0 and not store.q1("SELECT 1 FROM devices WHERE id=?", (device_id,)):
            raise RecordNotFound("device not found")


def devices(store: Store, user_id: str | None = None) -> list[dict[str, Any]]:
    sql = (
        "SELECT d.id, d.user_id, u.username, d.name, d.origin, d.created_at, d.last_seen, d.revoked_at "
        "FROM devices d JOIN users u ON u.id=d.user_id"
    )
    if user_id:
        return store.q(sql + " WHERE d.user_id=? ORDER BY d.created_at", (user_id,))
    return store.q(sql + " ORDER BY d.created_at")


def device_origins(store: Store) -> set[str]:
    rows = store.q("SELECT origin FROM devices WHERE origin IS NOT NULL AND revoked_at IS NULL")
    return {r["origin"] for r in rows}


# -- pairing codes -------------------------------------------------------------------
def add_pairing_code(store: Store, user_id: str, code: str, ttl: float) -> None:
    """A code that signs a new device in as this user; the user must exist and be enabled."""
    now = time.time()
    with store.transaction():
        row = store.q1("SELECT disabled FROM users WHERE id=?", (user_id,))
        if not row:
            raise RecordNotFound("user not found")
        if row["disabled"]:
            raise Conflict("this user is disabled", code="user_disabled")
        store.conn.execute(
            "INSERT INTO pairing_codes(hash, user_id, created_at, expires_at) VALUES (?,?,?,?)",
            (token_hash(code), user_id, now, now + ttl),
        )


def use_pairing_code(store: Store, code: str) -> str | None:
    """Consume a code once; returns its user id while valid."""
    now = time.time()
    with store.transaction():
        row = store.q1("SELECT * FROM pairing_codes WHERE hash=?", (token_hash(code),))
        if not row or row["used_at"] is not None or row["expires_at"] < now:
            return None
        store.conn.execute("UPDATE pairing_codes SET used_at=? WHERE hash=?", (now, row["hash"]))
    return row["user_id"]


def audit(
    store: Store, user_id: str | None, action: str, target: str = "", detail: str = "", device_id: str | None = None
) -> None:
    """One audit row: ids and field names only, never message text or personal data."""
    store.conn.execute(
        "INSERT INTO audit_log(at, user_id, action, target, detail, device_id) VALUES (?,?,?,?,?,?)",
        (time.time(), user_id, action, target, detail, device_id),
    )


# -- administration (`/users`, `/devices`) ---------------------------------------------
def _active_admins(store: Store) -> set[str]:
    return {r["id"] for r in store.q("SELECT id FROM users WHERE role='admin' AND disabled=0")}


def _keep_an_admin(store: Store, user_id: str, *, still_admin: bool) -> None:
    """Refuse a change that leaves no active admin (nobody could run the business any more)."""
    if not still_admin and _active_admins(store) == {user_id}:
        raise Conflict("this is the last active admin: make another admin first", code="last_admin")


def change_user(store: Store, user_id: str, changes: dict[str, Any], keep_device: str | None = None) -> dict[str, Any]:
    """Role, password hash and/or disabled, checked against the last active admin in the same
    transaction. A new password or disabling signs the user's devices out (except `keep_device`,
    the caller's own). Returns the user and the ids of the devices signed out."""
    with store.transaction():
        current = user(store, user_id)
        role = changes.get("role", current["role"])
        disabled = changes.get("disabled", current["disabled"])
        _keep_an_admin(store, user_id, still_admin=role == "admin" and not disabled)
        sets = {k: int(v) if k == "disabled" else v for k, v in changes.items() if k in ("role", "pw_hash", "disabled")}
        if sets:
            cols = ", ".join(f"{k}=?" for k in sets)
            store.conn.execute(f"UPDATE users SET {cols} WHERE id=?", (*sets.values(), user_id))
        signed_out: list[str] = []
        if "pw_hash" in changes or (disabled and not current["disabled"]):
            signed_out = _revoke_user_devices(store, user_id, keep_device)
    return {"user": user(store, user_id), "signed_out": signed_out}


def _revoke_user_devices(store: Store, user_id: str, keep_device: str | None = None) -> list[str]:
    rows = store.q(
        "SELECT id FROM devices WHERE user_id=? AND revoked_at IS NULL AND id IS NOT ?", (user_id, keep_device)
    )
    ids = [r["id"] for r in rows]
    now = time.time()
    for did in ids:
        store.conn.execute("UPDATE devices SET revoked_at=? WHERE id=?", (now, did))
    return ids


def delete_user(store: Store, user_id: str) -> list[str]:
    """Remove an account: its devices, tokens and codes go; what it owned becomes unowned (admins
    see it and can hand it to someone else). Audit rows and corrections keep the id. Returns the
    ids of the devices signed out."""
    with store.transaction():
        user(store, user_id)  # RecordNotFound
        _keep_an_admin(store, user_id, still_admin=False)
        devs = [r["id"] for r in store.q("SELECT id FROM devices WHERE user_id=?", (user_id,))]
        marks = ",".join("?" * len(devs))
        store.conn.execute(f"DELETE FROM refresh_tokens WHERE device_id IN ({marks})", tuple(devs))
        store.conn.execute("DELETE FROM devices WHERE user_id=?", (user_id,))
        store.conn.execute("DELETE FROM pairing_codes WHERE user_id=?", (user_id,))
        store.conn.execute("UPDATE contacts SET owner_id=NULL WHERE owner_id=?", (user_id,))
        store.conn.execute("UPDATE conversations SET owner_id=NULL WHERE owner_id=?", (user_id,))
        store.conn.execute("DELETE FROM users WHERE id=?", (user_id,))
    return devs


def device_role(store: Store, device_id: str) -> str | None:
    """The role of the device's user while the device is active (not revoked, user enabled)."""
    row = store.q1(
        "SELECT u.role FROM devices d JOIN users u ON u.id=d.user_id "
        "WHERE d.id=? AND d.revoked_at IS NULL AND u.disabled=0",
        (device_id,),
    )
    return row["role"] if row else None
