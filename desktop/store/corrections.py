"""Label corrections from attendants (text and features encrypted with the contact's key,
label clear) and the adapters trained from them (encrypted with the general key)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, NamedTuple

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


def add_imported(store: Store, rows: list[tuple[str, str, int | None, str, str, dict]]) -> int:
    """Store labelled texts from a file, ``(task, label, stars, text, lang, features)`` each:
    sealed with the general key (they belong to no contact), learnt from like corrections."""
    now = time.time()
    with store.transaction():
        for task, label, stars, text, lang, feats in rows:
            cid = new_id("l")
            store.conn.execute(
                "INSERT INTO label_corrections(id, conversation_id, user_id, task, label, lang, text, features,"
                " created_at, stars) VALUES (?,NULL,NULL,?,?,?,?,?,?,?)",
                (
                    cid,
                    task,
                    label,
                    lang,
                    store.seal(None, "label_corrections", "text", cid, text),
                    store.seal(None, "label_corrections", "features", cid, json.dumps(feats)),
                    now,
                    stars,
                ),
            )
    return len(rows)


def forget_imported(store: Store) -> int:
    """Delete every imported example (corrections made in conversations stay)."""
    with store.transaction():
        return store.conn.execute("DELETE FROM label_corrections WHERE conversation_id IS NULL").rowcount


def set_features(store: Store, ids: list[str], kid: str, feats: dict) -> None:
    raw = json.dumps(feats)
    for cid in ids:
        store.conn.execute(
            "UPDATE label_corrections SET features=? WHERE id=?",
            (store.seal(kid, "label_corrections", "features", cid, raw), cid),
        )


class StoredExample(NamedTuple):
    features: dict
    label: str
    text: str | None  # decrypted only when the features need recomputing
    lang: str
    stars: int | None  # an imported review's rating


def training_examples(
    store: Store, stale: Callable[[dict], bool] = lambda feats: False
) -> dict[str, list[StoredExample]]:
    """Every correction and imported example with features whose contact still exists (erased
    ones are gone). ``text`` is decrypted only for features that ``stale`` says an older version
    stored, so the caller can recompute them; otherwise it is None."""
    out: dict[str, list[StoredExample]] = {"sentiment": [], "intent": []}
    sql = "SELECT id, task, label, lang, text, features, stars FROM label_corrections WHERE features IS NOT NULL"
    for r in store.q(sql):
        try:
            feats = store.unseal_json(r["features"], "label_corrections", "features", r["id"])
            text = store.unseal(r["text"], "label_corrections", "text", r["id"]) if stale(feats) else None
        except KeyMissing:
            continue
        out[r["task"]].append(StoredExample(feats, r["label"], text, r["lang"], r["stars"]))
    return out


def save_adapter(store: Store, task: str, blob: bytes, examples: int) -> None:
    sealed = store.seal(None, "adapters", "blob", task, blob.hex())
    store.conn.execute(
        "INSERT INTO adapters(task, blob, examples, trained_at) VALUES (?,?,?,?) ON CONFLICT(task) DO UPDATE SET "
        "blob=excluded.blob, examples=excluded.examples, trained_at=excluded.trained_at",
        (task, sealed, examples, time.time()),
    )


def pending_features(store: Store) -> list[tuple[str, str, str, str]]:
    """Corrections stored without features (the app stopped before the model computed them),
    as ``(id, kid, text, lang)``; erased contacts are skipped."""
    out = []
    sql = (
        "SELECT l.id, l.lang, l.text, k.kid FROM label_corrections l JOIN conversations c ON c.id=l.conversation_id"
        " JOIN contacts k ON k.id=c.contact_id WHERE l.features IS NULL"
    )
    for r in store.q(sql):
        try:
            out.append((r["id"], r["kid"], store.unseal(r["text"], "label_corrections", "text", r["id"]), r["lang"]))
        except KeyMissing:
            continue
    return out


def needs_retrain(store: Store) -> bool:
    """Examples stored after the adapters were trained (a retrain cut short, or an import while
    the server was running)."""
    newest = store.q1("SELECT max(created_at) AS t FROM label_corrections WHERE features IS NOT NULL")["t"]
    trained = store.q1("SELECT min(trained_at) AS t FROM adapters")["t"]
    return newest is not None and (trained is None or newest > trained)


def delete_adapters_except(store: Store, tasks: list[str]) -> None:
    """A task left without examples has no adapter: its labels fall back to the built-in ones."""
    marks = ",".join("?" * len(tasks))
    store.conn.execute(f"DELETE FROM adapters WHERE task NOT IN ({marks})", tuple(tasks))


def load_adapters(store: Store) -> dict[str, bytes]:
    return {
        r["task"]: bytes.fromhex(store.unseal(r["blob"], "adapters", "blob", r["task"]))
        for r in store.q("SELECT task, blob FROM adapters")
    }


def status(store: Store) -> dict[str, Any]:
    n = store.q1("SELECT count(*) AS n FROM label_corrections WHERE conversation_id IS NOT NULL")["n"]
    imported = store.q1("SELECT count(*) AS n FROM label_corrections WHERE conversation_id IS NULL")["n"]
    rows = store.q("SELECT task, examples, trained_at FROM adapters")
    return {
        "corrections": n,
        "imported": imported,
        "adapters": {r["task"]: {"examples": r["examples"], "trained_at": r["trained_at"]} for r in rows},
    }
