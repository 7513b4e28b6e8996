"""Conversations tab, the model: API JSON in, list rows, message lines, insight history and
label choices out. Plain functions (no Tk), unit-tested on their own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from desktop.pipeline import STATUSES
from desktop.ui import format as fmt
from desktop.ui.contacts_model import fold

Translate = Callable[..., str]
# The label sets of the API (Insight in API.md); the window holds no llm code, so they are listed here.
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("purchase_pricing", "support_technical", "complaint", "scheduling", "cancellation", "order_status",
           "greeting_smalltalk", "other")
COLUMNS = ("title", "status", "sentiment", "intent", "waiting", "messages", "last")
SENTIMENT_MARK = {"negative": "▼", "neutral": "■", "positive": "▲"}


def sentiment_text(label: str | None, t: Translate) -> str:
    if not label:
        return "—"
    return f"{SENTIMENT_MARK.get(label, '')} {t(f'conv.sentiment.{label}')}".strip()


def intent_text(label: str | None, t: Translate) -> str:
    return t(f"conv.intent.{label}") if label else "—"


def status_text(status: str, t: Translate) -> str:
    return t(f"conv.status.{status}")


@dataclass
class ConversationRow:
    id: str
    contact_id: str
    title: str
    status: str
    sentiment: str | None
    intent: str | None
    waiting_seconds: float | None
    cells: tuple[str, ...]
    search: str


def conversation_rows(
    items: Iterable[dict[str, Any]], t: Translate, lang: str = "pt_BR", waiting: dict[str, float] | None = None
) -> list[ConversationRow]:
    """Rows of GET /conversations. Waiting time: the item's ``waiting_seconds`` (how long the
    customer's unanswered message has waited; absent when answered), or ``waiting`` (conversation
    id → seconds, e.g. from GET /queue) when the list does not carry it."""
    waiting = waiting or {}
    rows = []
    for c in items:
        ins = c.get("insight") or {}
        sentiment = ins.get("sentiment")
        intent = ins.get("intent")
        wait = c.get("waiting_seconds", waiting.get(c["id"]))
        title = c.get("title") or t("contacts.unnamed")
        last = c.get("last_message_at")
        try:
            last_text = fmt.day(last, lang) + (" " + last[11:16] if last and len(last) >= 16 else "") if last else "—"
        except ValueError:
            last_text = last or "—"
        if ins.get("state") == "pending" and not sentiment:
            sent_cell = t("conv.analysing")
        else:
            sent_cell = sentiment_text(sentiment, t)
        cells = (
            title,
            status_text(c.get("status", "open"), t),
            sent_cell,
            intent_text(intent, t),
            fmt.duration(wait, lang) if wait is not None else "—",
            str(c.get("message_count") or 0),
            last_text,
        )
        rows.append(ConversationRow(c["id"], c.get("contact_id", ""), title, c.get("status", "open"), sentiment,
                                    intent, wait, cells, fold(title)))
    return rows


def filter_rows(rows: Iterable[ConversationRow], query: str = "", status: str = "", sentiment: str = "",
                waiting_only: bool = False) -> list[ConversationRow]:
    words = fold(query).split()
    return [
        r for r in rows
        if all(w in r.search for w in words)
        and (not status or r.status == status)
        and (not sentiment or r.sentiment == sentiment)
        and (not waiting_only or r.waiting_seconds is not None)
    ]


def sort_rows(rows: list[ConversationRow], by: str) -> list[ConversationRow]:
    """"waiting": longest wait first, negative mood first within it; else as the API sent them."""
    if by == "waiting":
        mood = {"negative": 0, "neutral": 1, "positive": 2}
        return sorted(rows, key=lambda r: (r.waiting_seconds is None, -(r.waiting_seconds or 0),
                                           mood.get(r.sentiment or "", 3)))
    return rows


@dataclass
class MessageLine:
    who: str  # "in" | "out" | "system"
    header: str  # "Mariana Costa · 10/03/2026 09:14"
    text: str


def message_lines(conversation: dict[str, Any], t: Translate, lang: str = "pt_BR") -> list[MessageLine]:
    """The messages of GET /conversations/{id}, oldest first, as the reader shows them."""
    out = []
    for m in conversation.get("messages") or []:
        kind = m.get("kind", "text")
        who = "system" if kind == "system" else m.get("direction", "in")
        ts = m.get("timestamp")
        when = ""
        if ts:
            try:
                when = fmt.day(ts, lang) + (" " + ts[11:16] if len(ts) >= 16 else "")
            except ValueError:
                when = ts
        author = m.get("author") or (t("conv.you") if who == "out" else "")
        text = m.get("text")
        if text is None:
            text = t(f"conv.kind.{kind}") if kind != "text" else ""
        out.append(MessageLine(who, " · ".join(p for p in (author, when) if p), text))
    return out


def history_rows(history: dict[str, Any], t: Translate, lang: str = "pt_BR") -> list[tuple[str, ...]]:
    """GET …/insights/history → (when, sentiment, score, intent, confidence), newest first."""
    rows = []
    for h in reversed(history.get("items") or []):
        s, i = h.get("sentiment") or {}, h.get("intent") or {}
        when = h.get("created_at") or ""
        try:
            when = fmt.day(when, lang) + " " + when[11:16] if len(when) >= 16 else when
        except ValueError:
            pass
        score = s.get("score")
        conf = i.get("confidence")
        rows.append((
            when,
            sentiment_text(s.get("label"), t),
            f"{score:+.2f}".replace(".", "," if lang == "pt_BR" else ".") if score is not None else "—",
            intent_text(i.get("label"), t),
            fmt.percent(conf, lang) if conf is not None else "—",
        ))
    return rows


def insight_summary(insight: dict[str, Any] | None, t: Translate) -> tuple[str, list[str]]:
    """(a line on the latest insight, its suggestions' texts)."""
    if not insight:
        return t("conv.insight.none"), []
    state = insight.get("state")
    if state == "pending":
        return t("conv.insight.pending"), []
    if state == "unavailable":
        err = (insight.get("error") or {}).get("message") or ""
        return t("conv.insight.unavailable", why=err), []
    summary = insight.get("summary") or ""
    sugg = [s.get("text", "") for s in insight.get("suggestions") or [] if s.get("text")]
    return summary or t("conv.insight.no_summary"), sugg


def suggestion_sources(insight: dict[str, Any] | None, t: Translate) -> list[str]:
    """For each suggestion `insight_summary` lists, the "fonte: …" line of the knowledge it cites
    (each title once), or "" when it cites nothing."""
    if not insight or insight.get("state") in ("pending", "unavailable"):
        return []
    out = []
    for s in insight.get("suggestions") or []:
        if not s.get("text"):
            continue
        titles = list(dict.fromkeys(c["title"].strip() for c in s.get("citations") or [] if c.get("title")))
        out.append(t("conv.suggestion.source", titles=" · ".join(titles[:3])) if titles else "")
    return out


def label_correction(current: dict[str, Any] | None, sentiment: str, intent: str) -> dict[str, str]:
    """The body of POST …/labels: only the labels the attendant changed from the latest insight's
    (the same correction the extension sends); {} when nothing changed."""
    current = current or {}
    out = {}
    if sentiment and sentiment in SENTIMENTS and sentiment != (current.get("sentiment") or {}).get("label"):
        out["sentiment"] = sentiment
    if intent and intent in INTENTS and intent != (current.get("intent") or {}).get("label"):
        out["intent"] = intent
    return out


def status_choices(t: Translate) -> list[tuple[str, str]]:
    return [(s, status_text(s, t)) for s in STATUSES]
