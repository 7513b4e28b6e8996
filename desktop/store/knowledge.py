"""The shop's knowledge base: documents (FAQ, policies, catalogues) and their passages.

Sealed with the general data key like every other text (see migration 0011): the SQLite file
holds no readable passage; the search index over them is built in memory by the service.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import RecordNotFound

DOCS, PASSAGES = "knowledge_docs", "knowledge_passages"


def _doc_out(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": store.unseal(row["title"], DOCS, "title", row["id"]),
        "kind": row["kind"],
        "filename": store.unseal(row["filename"], DOCS, "filename", row["id"]),
        "passages": row["passages"],
        "chars": row["chars"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def documents(store: Store) -> list[dict[str, Any]]:
    rows = store.q(f"SELECT * FROM {DOCS} ORDER BY created_at, id")
    return sorted((_doc_out(store, r) for r in rows), key=lambda d: d["title"].casefold())


def document(store: Store, doc_id: str, *, with_passages: bool = True) -> dict[str, Any]:
    row = store.q1(f"SELECT * FROM {DOCS} WHERE id=?", (doc_id,))
    if row is None:
        raise RecordNotFound("knowledge document not found")
    out = _doc_out(store, row)
    source = store.unseal(row["source"], DOCS, "source", doc_id)
    out["csv" if row["kind"] == "csv" else "text"] = source
    if with_passages:
        out["items"] = [
            {"id": p["id"], "text": p["text"], "fields": p["fields"]} for p in _passages(store, "doc_id=?", (doc_id,))
        ]
    return out


def save(
    store: Store,
    title: str,
    kind: str,
    source: str,
    passages: list[tuple[str, dict[str, str]]],
    user_id: str | None,
    *,
    filename: str | None = None,
    doc_id: str | None = None,
) -> str:
    """Create a document, or replace one (`doc_id`) with its passages; returns its id."""
    now = time.time()
    with store.transaction():
        if doc_id is None:
            doc_id = new_id("kb")
            store.conn.execute(
                f"INSERT INTO {DOCS}(id, kind, chars, passages, created_by, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (doc_id, kind, 0, 0, user_id, now, now),
            )
        elif not store.q1(f"SELECT 1 FROM {DOCS} WHERE id=?", (doc_id,)):
            raise RecordNotFound("knowledge document not found")
        store.conn.execute(
            f"UPDATE {DOCS} SET title=?, kind=?, filename=?, source=?, chars=?, passages=?, updated_at=? WHERE id=?",
            (
                store.seal(None, DOCS, "title", doc_id, title),
                kind,
                store.seal(None, DOCS, "filename", doc_id, filename),
                store.seal(None, DOCS, "source", doc_id, source),
                len(source),
                len(passages),
                now,
                doc_id,
            ),
        )
        store.conn.execute(f"DELETE FROM {PASSAGES} WHERE doc_id=?", (doc_id,))
        for seq, (text, fields) in enumerate(passages, start=1):
            pid = f"{doc_id}.{seq}"
            store.conn.execute(
                f"INSERT INTO {PASSAGES}(id, doc_id, seq, text, fields) VALUES (?,?,?,?,?)",
                (
                    pid,
                    doc_id,
                    seq,
                    store.seal(None, PASSAGES, "text", pid, text),
                    store.seal(None, PASSAGES, "fields", pid, fields) if fields else None,
                ),
            )
    return doc_id


def delete(store: Store, doc_id: str) -> None:
    with store.transaction():
        if store.conn.execute(f"DELETE FROM {DOCS} WHERE id=?", (doc_id,)).rowcount == 0:
            raise RecordNotFound("knowledge document not found")
        store.conn.execute(f"DELETE FROM {PASSAGES} WHERE doc_id=?", (doc_id,))


def _passages(store: Store, where: str = "1", params: tuple = ()) -> Iterator[dict[str, Any]]:
    for r in store.q(f"SELECT id, doc_id, text, fields FROM {PASSAGES} WHERE {where} ORDER BY doc_id, seq", params):
        yield {
            "id": r["id"],
            "doc_id": r["doc_id"],
            "text": store.unseal(r["text"], PASSAGES, "text", r["id"]) or "",
            "fields": store.unseal_json(r["fields"], PASSAGES, "fields", r["id"]) or {},
        }


def all_passages(store: Store, doc_id: str | None = None) -> list[dict[str, Any]]:
    """Every passage decrypted, with its document's title (for the in-memory index)."""
    titles = {
        r["id"]: store.unseal(r["title"], DOCS, "title", r["id"])
        for r in store.q(
            f"SELECT id, title FROM {DOCS}" + (" WHERE id=?" if doc_id else ""), (doc_id,) if doc_id else ()
        )
    }
    where, params = ("doc_id=?", (doc_id,)) if doc_id else ("1", ())
    return [{**p, "title": titles.get(p["doc_id"], "")} for p in _passages(store, where, params)]
