"""Insights (labels clear for charts; summary and suggestions encrypted with the contact's key)."""

from __future__ import annotations

import json
import time
from typing import Any

from desktop.store.database import Store, new_id
from desktop.store.errors import KeyMissing


def create(store: Store, conversation_id: str, analyzed_message_id: str | None, model: str) -> str:
    iid = new_id("i")
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO insights(id, conversation_id, state, model, analyzed_message_id, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (iid, conversation_id, "pending", model, analyzed_message_id, now, now),
        )
    return iid


def save(store: Store, insight_id: str, kid: str, result: dict[str, Any]) -> None:
    """Write what is known so far; `result` keys are those of the API's insight object."""
    sets: dict[str, Any] = {"updated_at": time.time()}
    if "state" in result:
        sets["state"] = result["state"]
    if result.get("sentiment"):
        sets["sentiment_label"] = result["sentiment"]["label"]
        sets["sentiment_score"] = result["sentiment"]["score"]
    if result.get("intent"):
        sets["intent_label"] = result["intent"]["label"]
        sets["intent_confidence"] = result["intent"]["confidence"]
    if "summary" in result:
        sets["summary"] = store.seal(kid, "insights", "summary", insight_id, result["summary"])
    if "summary_source" in result:
        sets["summary_source"] = result["summary_source"]
    if "suggestions" in result:
        sets["suggestions"] = store.seal(kid, "insights", "suggestions", insight_id, result["suggestions"])
    if "error" in result:
        err = result["error"] or {}
        sets["error_code"] = err.get("code")
        sets["error_message"] = err.get("message")
    if "timings" in result:
        sets["timings"] = json.dumps(result["timings"])
    if "model" in result:
        sets["model"] = result["model"]
    cols = ", ".join(f"{k}=?" for k in sets)
    with store.transaction():
        store.conn.execute(f"UPDATE insights SET {cols} WHERE id=?", (*sets.values(), insight_id))


def latest(store: Store, conversation_id: str) -> dict[str, Any] | None:
    row = store.q1(
        "SELECT * FROM insights WHERE conversation_id=? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (conversation_id,),
    )
    return public(store, row) if row else None


def public(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    iid = row["id"]
    try:
        summary = store.unseal(row["summary"], "insights", "summary", iid)
        suggestions = store.unseal_json(row["suggestions"], "insights", "suggestions", iid) or []
    except KeyMissing:
        summary, suggestions = None, []
    error = {"code": row["error_code"], "message": row["error_message"]} if row["error_code"] else None
    return {
        "id": iid,
        "conversation_id": row["conversation_id"],
        "state": row["state"],
        "error": error,
        "sentiment": {"label": row["sentiment_label"], "score": row["sentiment_score"]}
        if row["sentiment_label"]
        else None,
        "intent": {"label": row["intent_label"], "confidence": row["intent_confidence"]}
        if row["intent_label"]
        else None,
        "summary": summary,
        "summary_source": row.get("summary_source"),
        "suggestions": suggestions,
        "model": row["model"],
        "analyzed_message_id": row["analyzed_message_id"],
        "updated_at": _iso(row["updated_at"]),
        "timings": json.loads(row["timings"]) if row["timings"] else None,
    }


def discard(store: Store, insight_id: str) -> None:
    """Drop a pending insight whose job was superseded before it produced anything."""
    store.conn.execute("DELETE FROM insights WHERE id=? AND state='pending'", (insight_id,))


def history(store: Store, conversation_id: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = store.q(
        "SELECT id, state, sentiment_label, sentiment_score, intent_label, intent_confidence, created_at "
        "FROM insights WHERE conversation_id=? AND sentiment_label IS NOT NULL ORDER BY created_at DESC LIMIT ?",
        (conversation_id, limit),
    )
    return [
        {
            "id": r["id"],
            "sentiment": {"label": r["sentiment_label"], "score": r["sentiment_score"]},
            "intent": {"label": r["intent_label"], "confidence": r["intent_confidence"]},
            "created_at": _iso(r["created_at"]),
        }
        for r in reversed(rows)
    ]


def mark_abandoned(store: Store) -> int:
    """Insights left pending by a crash become unavailable, so clients are not stuck waiting."""
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE insights SET state='unavailable', error_code='interrupted', "
            "error_message='the server stopped before this analysis finished' WHERE state='pending'"
        )
    return cur.rowcount


def add_feedback(store: Store, suggestion_id: str, user_id: str, action: str) -> None:
    insight_id = suggestion_id.rsplit(".", 1)[0]
    row = store.q1("SELECT conversation_id FROM insights WHERE id=?", (insight_id,))
    with store.transaction():
        store.conn.execute(
            "INSERT INTO suggestion_feedback(id, suggestion_id, insight_id, conversation_id, user_id, action,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (
                new_id("f"),
                suggestion_id,
                insight_id,
                row["conversation_id"] if row else None,
                user_id,
                action,
                time.time(),
            ),
        )


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
