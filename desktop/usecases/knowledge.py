"""The shop's knowledge base: admins load FAQ, policies and catalogues; the analyses retrieve
the passages that answer the customer's last turns.

Documents are sealed in the store (desktop/store/knowledge.py); their passages are indexed in
memory (BM25 with accent folding and a light Portuguese stemmer, llm/retrieval.py), loaded at
startup and changed with each write. The index is read and written on the database thread only.
"""

from __future__ import annotations

import logging
from typing import Any

from desktop import knowledge_parse
from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.store import knowledge
from desktop.store.database import Store
from desktop.usecases import access, audit
from desktop.usecases.runtime import Runtime
from llm.retrieval import BM25Index
from llm.sources import Passage

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_QUERY = 500


def read_body(body: Any) -> tuple[str, str, str]:
    """(title, kind text|csv, source) of a JSON body {"title", "text"|"csv"}."""
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    unknown = set(body) - {"title", "text", "csv"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    title = body.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise InvalidInput(f"title must be 1-{MAX_TITLE} characters", field="title")
    given = [k for k in ("text", "csv") if k in body]
    if len(given) != 1:
        raise InvalidInput("send either text or csv", field="text")
    kind = given[0]
    source = body[kind]
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(f"{kind} must be non-empty text", field=kind)
    return title.strip(), kind, source


def read_file(filename: str, content_type: str, raw: bytes, title: str | None) -> tuple[str, str, str]:
    """(title, kind txt|md|pdf|csv, text) of an uploaded file; the title defaults to its name."""
    kind = knowledge_parse.kind_of(filename, content_type)
    text = knowledge_parse.pdf_text(raw) if kind == "pdf" else knowledge_parse.decode_text(raw)
    if not text.strip():
        raise InvalidInput("the file is empty", field="file")
    title = (title or "").strip() or filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].strip() or "documento"
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title must be 1-{MAX_TITLE} characters", field="title")
    return title, kind, text


class KnowledgeBase:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.index = BM25Index([])
        self._entries: list[Passage | None] = []
        self._by_doc: dict[str, list[int]] = {}

    def reset(self, _store: Store | None = None) -> None:
        """Forget everything indexed (the data was restored from a backup); on the database thread."""
        self.index = BM25Index([])
        self._entries = []
        self._by_doc = {}

    def __len__(self) -> int:
        return len(self.index)

    async def startup(self) -> None:
        await self.rt.db(self._load, None)
        log.info("knowledge base: %d passages", len(self.index))

    # -- the in-memory index (database thread) ---------------------------------------------
    def _load(self, store: Store, doc_id: str | None) -> None:
        if doc_id is not None:
            self._drop(doc_id)
        for p in knowledge.all_passages(store, doc_id):
            i = self.index.add(f"{p['title']}\n{p['text']}")
            self._entries.append(Passage(id=p["id"], title=p["title"], text=p["text"], fields=p["fields"]))
            self._by_doc.setdefault(p["doc_id"], []).append(i)

    def _drop(self, doc_id: str) -> None:
        for i in self._by_doc.pop(doc_id, []):
            self.index.remove(i)
            self._entries[i] = None

    def search(self, query: str, k: int = 4) -> list[Passage]:
        """The passages that best answer `query`, best first, with their BM25 score."""
        out = []
        for i, score in self.index.search(query, k):
            p = self._entries[i]
            if p is not None:
                out.append(Passage(id=p.id, title=p.title, text=p.text, score=round(score, 4), fields=p.fields))
        return out

    # -- the admin API ------------------------------------------------------------------------
    async def list(self, principal: Principal) -> dict[str, Any]:
        access.require_admin(principal)
        return {"items": await self.rt.db(knowledge.documents)}

    async def get(self, principal: Principal, doc_id: str) -> dict[str, Any]:
        access.require_admin(principal)
        return await self.rt.db(knowledge.document, doc_id)

    async def save(
        self,
        principal: Principal,
        title: str,
        kind: str,
        source: str,
        *,
        filename: str | None = None,
        doc_id: str | None = None,
    ) -> dict[str, Any]:
        """Create (doc_id None) or replace a document; its passages are re-split and re-indexed."""
        access.require_admin(principal)
        parsed = knowledge_parse.passages_of(kind, source)

        def write(store: Store) -> dict[str, Any]:
            new_id = knowledge.save(
                store,
                title,
                kind,
                source,
                [(p.text, p.fields) for p in parsed],
                principal.user_id,
                filename=filename,
                doc_id=doc_id,
            )
            audit.entry(
                store,
                principal,
                "knowledge.update" if doc_id else "knowledge.create",
                new_id,
                f"passages={len(parsed)}",
            )
            self._load(store, new_id)
            return knowledge.document(store, new_id, with_passages=False)

        return await self.rt.db(write)

    async def delete(self, principal: Principal, doc_id: str) -> None:
        access.require_admin(principal)

        def remove(store: Store) -> None:
            knowledge.delete(store, doc_id)
            audit.entry(store, principal, "knowledge.delete", doc_id)
            self._drop(doc_id)

        await self.rt.db(remove)

    async def preview(self, principal: Principal, query: str | None, k: int) -> dict[str, Any]:
        """What the analyses would retrieve for `query` (admins check their knowledge base)."""
        access.require_admin(principal)
        if not query or not query.strip() or len(query) > MAX_QUERY:
            raise InvalidInput(f"q must be 1-{MAX_QUERY} characters", field="q")
        found = await self.rt.db(lambda _store: self.search(query, k))
        return {
            "items": [
                {"id": p.id, "title": p.title, "text": p.text, "score": p.score, "fields": p.fields} for p in found
            ]
        }
