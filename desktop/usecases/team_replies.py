"""What this team answered before: an in-memory BM25 index over the past customer turns, each
leading to the attendant's reply, for the suggestions of a new turn in another chat.

Built from the encrypted messages at startup (in pages, so the database thread keeps serving)
and refreshed per conversation when a capture stores new messages; nothing of it is written to
disk. Another customer's names, order numbers, addresses, amounts, dates, e-mails, phones and
links are masked to `{placeholders}` before a pair is indexed (desktop/contact_facts.py), and a
pair with too little left is dropped. Every method runs on the database thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from desktop.contact_facts import mask, name_tokens, words_left
from desktop.store import team_pairs
from desktop.store.database import Store
from desktop.usecases.runtime import Runtime
from llm.retrieval import BM25Index
from llm.sources import TeamReply

log = logging.getLogger(__name__)

MIN_WORDS = 2  # a masked reply with fewer real words ("Oi {nome}!") is no answer to anything
PAGE = 100


@dataclass(frozen=True)
class _Entry:
    conversation_id: str
    message_id: str  # the reply's first message: an opaque id, named in the insight's timings
    reply: str
    customer_turn: str
    intent: str | None


def _masked(conversation_id: str, pair: dict[str, Any]) -> _Entry | None:
    """A pair as `team_pairs.pairs` gives it (customer_turn, reply, intent, message_id, names),
    with that customer's facts masked; None when the reply keeps too few words."""
    tokens = name_tokens(*pair["names"])
    masked = mask(pair["reply"], tokens)
    if words_left(masked) < MIN_WORDS:
        return None
    return _Entry(conversation_id, pair["message_id"], masked, mask(pair["customer_turn"], tokens), pair["intent"])


class TeamReplies:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.index = BM25Index([])
        self._entries: list[_Entry | None] = []
        self._by_conv: dict[str, list[int]] = {}
        self.ready = False

    def reset(self, _store: Store | None = None) -> None:
        """Forget everything indexed (the data was restored from a backup); on the database thread."""
        self.index = BM25Index([])
        self._entries = []
        self._by_conv = {}
        self.ready = False

    def __len__(self) -> int:
        return len(self.index)

    async def startup(self) -> None:
        """Index every stored conversation, a page per database job."""
        started, after = time.monotonic(), ""
        while True:
            ids = await self.rt.db(team_pairs.conversation_ids, after, PAGE)
            if not ids:
                break
            await self.rt.db(self._refresh_many, ids)
            after = ids[-1]
        self.ready = True
        log.info("team replies indexed: %d pairs in %.2fs", len(self.index), time.monotonic() - started)

    def _refresh_many(self, store: Store, conversation_ids: list[str]) -> None:
        for cid in conversation_ids:
            self.refresh(store, cid)

    def refresh(self, store: Store, conversation_id: str) -> None:
        """Re-read one conversation's pairs (after a capture stored new messages)."""
        fresh = [e for p in team_pairs.pairs(store, conversation_id) if (e := _masked(conversation_id, p))]
        if fresh == [self._entries[i] for i in self._by_conv.get(conversation_id, [])]:
            return  # a capture that added no pair (most do): the index stays as it is
        self._drop(conversation_id)
        for e in fresh:
            self._add(e)
        self._compact()

    def add_pair(self, conversation_id: str, pair: dict[str, Any]) -> bool:
        """Index one pair as a capture would (masked); False when too little of the reply is left.
        For benchmarks that build a history without a store."""
        e = _masked(conversation_id, pair)
        if e is not None:
            self._add(e)
        return e is not None

    def _add(self, e: _Entry) -> None:
        i = self.index.add(e.customer_turn)
        self._entries.append(e)
        self._by_conv.setdefault(e.conversation_id, []).append(i)

    def _compact(self) -> None:
        """Removed pairs leave holes; rebuild once they outnumber the live ones."""
        if len(self._entries) < 2 * len(self.index) + 1000:
            return
        live = [e for e in self._entries if e is not None]
        self.index, self._entries, self._by_conv = BM25Index([]), [], {}
        for e in live:
            self._add(e)

    def forget(self, store: Store | None, conversation_ids: list[str]) -> None:
        """An erased contact's conversations: their pairs are never offered again. Pairs of any
        other conversation that no longer exists go too (an unverified chat merged into its real
        one is deleted, and its id is not among the erased contact's)."""
        for cid in conversation_ids:
            self._drop(cid)
        if store is not None and self._by_conv:
            existing = {r["id"] for r in store.q("SELECT id FROM conversations")}
            for cid in [c for c in self._by_conv if c not in existing]:
                self._drop(cid)

    def _drop(self, conversation_id: str) -> None:
        for i in self._by_conv.pop(conversation_id, []):
            self.index.remove(i)
            self._entries[i] = None

    def search(self, query: str, exclude_conversation: str | None = None, k: int = 5) -> list[TeamReply]:
        """The replies given to the past turns most like `query`, from other conversations; the
        same reply text is offered once (its best match)."""
        return [r for _, r in self.search_ids(query, exclude_conversation, k)]

    def search_ids(
        self, query: str, exclude_conversation: str | None = None, k: int = 5
    ) -> list[tuple[str, TeamReply]]:
        """`search` with each reply's message id."""
        seen: set[str] = set()

        def keep(i: int) -> bool:
            e = self._entries[i]
            if e is None or e.conversation_id == exclude_conversation or e.reply in seen:
                return False
            seen.add(e.reply)
            return True

        out = []
        for i, score in self.index.search(query, k, keep=keep):
            e = self._entries[i]
            assert e is not None
            reply = TeamReply(text=e.reply, customer_turn=e.customer_turn, intent=e.intent, score=round(score, 4))
            out.append((e.message_id, reply))
        return out
