"""The order of the attendant's queue (`GET /queue`), as a pure function of its items.

Waiting chats come first, in this order:
  1. past the first-response SLA (`overdue`) before within it;
  2. then by wait band, longest first: waits are grouped in bands of WAIT_BAND_SECONDS, so a few
     seconds' difference does not outrank the customer's mood;
  3. within a band, negative mood first, then neutral or unknown, then positive;
  4. then the longer wait, then the conversation id (a stable order).
Due follow-ups of chats that are not waiting follow, the one due first at the top.
"""

from __future__ import annotations

from typing import Any

WAIT_BAND_SECONDS = 300
_MOOD_RANK = {"negative": 0, "neutral": 1, None: 1, "positive": 2}


def waiting_key(item: dict[str, Any]) -> tuple:
    wait = item["waiting_seconds"]
    return (
        not item["overdue"],
        -(wait // WAIT_BAND_SECONDS),
        _MOOD_RANK.get(item.get("sentiment"), 1),
        -wait,
        item["conversation_id"],
    )


def order(waiting: list[dict[str, Any]], followups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`waiting` items have waiting_seconds; `followups` items carry followup.due_at."""
    return sorted(waiting, key=waiting_key) + sorted(
        followups, key=lambda i: (i["followup"]["due_at"], i["followup"]["id"])
    )
