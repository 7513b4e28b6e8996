"""Upserting an imported lead into the contacts: found by its external client id, else by phone,
else created. Every personal value is sealed with the contact's key; ids and phones are found
by their keyed hashes. The caller runs `upsert` inside its transaction."""

from __future__ import annotations

import time
from typing import Any

from desktop.pipeline import FIRST_STAGE
from desktop.store.database import Store, new_id

_SEALED = ("name", "phone", "company", "notes", "external_id")


def _phone_hashes(store: Store, phone: str) -> list[str]:
    # Captures store the phone as the extension read it (+5511…); an older card may lack the +.
    return [store.index("phone", phone), store.index("phone", phone.lstrip("+"))]


def find(store: Store, external_id: str | None, phone: str | None) -> dict[str, Any] | None:
    if external_id:
        row = store.q1("SELECT * FROM contacts WHERE ext_hash=?", (store.index("ext", external_id),))
        if row:
            return row
    if phone:
        hashes = _phone_hashes(store, phone)
        return store.q1(
            "SELECT * FROM contacts WHERE phone_hash IN (?,?) AND is_group=0 ORDER BY updated_at DESC LIMIT 1",
            tuple(hashes),
        )
    return None


def current(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    cid = row["id"]
    out = {k: store.unseal(row.get(k), "contacts", k, cid) for k in _SEALED}
    out["tags"] = store.unseal_json(row["tags"], "contacts", "tags", cid) or []
    out |= {"stage": row["stage"], "value": row["value"], "score": row.get("lead_score")}
    return out


def changes(have: dict[str, Any], lead: dict[str, Any]) -> dict[str, Any]:
    """What the lead changes on a card: given values replace, tags are added, notes appended."""
    out: dict[str, Any] = {}
    for key in ("name", "phone", "company", "stage", "value", "score", "external_id"):
        if lead.get(key) is not None and lead[key] != have.get(key):
            if key == "external_id" and have.get(key):
                continue  # found by phone, but already someone's id in the other system: kept
            out[key] = lead[key]
    if lead.get("tags"):
        merged = sorted(set(have["tags"]) | set(lead["tags"]))
        if merged != sorted(have["tags"]):
            out["tags"] = merged
    note = lead.get("notes")
    if note and note not in (have.get("notes") or ""):
        out["notes"] = f"{have['notes']}\n{note}" if have.get("notes") else note
    return out


def upsert(store: Store, lead: dict[str, Any], *, write: bool) -> dict[str, Any]:
    """('created' | 'updated' | 'unchanged', contact id, changed field names); with write=False
    only says what would happen."""
    row = find(store, lead.get("external_id"), lead.get("phone"))
    if row is None:
        cid = _create(store, lead) if write else None
        return {"action": "created", "contact_id": cid, "fields": [k for k, v in lead.items() if v not in (None, [])]}
    diff = changes(current(store, row), lead)
    if not diff:
        return {"action": "unchanged", "contact_id": row["id"], "fields": []}
    if write:
        _update(store, row, diff)
    return {"action": "updated", "contact_id": row["id"], "fields": sorted(diff)}


def _columns(store: Store, kid: str, cid: str, values: dict[str, Any]) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    for key, value in values.items():
        if key in _SEALED:
            cols[key] = store.seal(kid, "contacts", key, cid, value)
            if key == "phone":
                cols["phone_hash"] = store.index("phone", value) if value else None
            if key == "external_id":
                cols["ext_hash"] = store.index("ext", value) if value else None
        elif key == "tags":
            cols["tags"] = store.seal(kid, "contacts", "tags", cid, value)
        elif key == "score":
            cols["lead_score"] = value
        elif key in ("stage", "value"):
            cols[key] = value
    return cols


def _create(store: Store, lead: dict[str, Any]) -> str:
    kid = store.new_contact_key()
    cid = new_id("k")
    now = time.time()
    cols = {
        "id": cid,
        "kid": kid,
        "is_group": 0,
        "stage": FIRST_STAGE,
        "tags": store.seal(kid, "contacts", "tags", cid, []),
        "created_at": now,
        "updated_at": now,
    }
    cols |= _columns(store, kid, cid, {k: v for k, v in lead.items() if v is not None})
    names = ", ".join(cols)
    store.conn.execute(f"INSERT INTO contacts({names}) VALUES ({','.join('?' * len(cols))})", tuple(cols.values()))
    return cid


def _update(store: Store, row: dict[str, Any], diff: dict[str, Any]) -> None:
    cols = _columns(store, row["kid"], row["id"], diff)
    cols["updated_at"] = time.time()
    sets = ", ".join(f"{k}=?" for k in cols)
    store.conn.execute(f"UPDATE contacts SET {sets} WHERE id=?", (*cols.values(), row["id"]))
