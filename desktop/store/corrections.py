"""Label corrections from attendants (text and features encrypted with the contact's key,
label clear) and the adapters trained from them (encrypted with the general key)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import KeyMissing


def add(
    store: Store, conv_row: dict[str, Any], user_id: str, labels: dict[str, str], text: str, lang: str
) -> list[str]:
    ids = []
    now = time.time()
    with store.transaction():
        for task, label in labels.items():
            cid = new_id("l")
            store.conn.execute(
                "INSERT INTO label_corrections(id, conversation_id, user_id, task, label, lang, text, features,"
                " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    cid,
                    conv_row["id"],
                    user_id,
                    task,
                    label,
                    lang,
                    store.seal(conv_row["kid"], "label_corrections", "text", cid, text),
                    None,
                    now,
                ),
            )
            ids.append(cid)
    return ids


def set_features(store: Store, ids: list[str], kid: str, feats: dict) -> None:
    raw = json.dumps(feats)
    for cid in ids:
        store.conn.execute(
            "UPDATE label_corrections SET features=? WHERE id=?",
            (store.seal(kid, "label_corrections", "features", cid, raw), cid),
        )


def training_examples(
    store: Store, stale: Callable[[dict], bool] = lambda feats: False
) -> dict[str, list[tuple[dict, str, str | None, str]]]:
    """Every correction with features whose contact still exists (erased ones are gone), as
    ``(features, label, text, lang)``. ``text`` is decrypted only for features that ``stale``
    says an older version stored, so the caller can recompute them; otherwise it is None."""
    out: dict[str, list[tuple[dict, str, str | None, str]]] = {"sentiment": [], "intent": []}
    sql = "SELECT id, task, label, lang, text, features FROM label_corrections WHERE features IS NOT NULL"
    for r in store.q(sql):
        try:
            feats = store.unseal_json(r["features"], "label_corrections", "features", r["id"])
            text = store.unseal(r["text"], "label_corrections", "text", r["id"]) if stale(feats) else None
        except KeyMissing:
            continue
        out[r["task"]].append((feats, r["label"], text, r["lang"]))
    return out


def save_adapter(store: Store, task: str, blob: bytes, examples: int) -> None:
    sealed = store.seal(None, "adapters", "blob", task, blob.hex())
    store.conn.execute(
        "INSERT INTO adapters(task, blob, examples, trained_at) VALUES (?,?,?,?) ON CONFLICT(task) DO UPDATE SET "
        "blob=excluded.blob, examples=excluded.examples, trained_at=excluded.trained_at",
        (task, sealed, examples, time.time()),
    )


def load_adapters(store: Store) -> dict[str, bytes]:
    return {
        r["task"]: bytes.fromhex(store.unseal(r["blob"], "adapters", "blob", r["task"]))
        for r in store.q("SELECT task, blob FROM adapters")
    }


def status(store: Store) -> dict[str, Any]:
    n = store.q1("SELECT count(*) AS n FROM label_corrections")["n"]
    rows = store.q("SELECT task, examples, trained_at FROM adapters")
    return {
        "corrections": n,
        "adapters": {r["task"]: {"examples": r["examples"], "trained_at": r["trained_at"]} for r in rows},
    }
