"""JSON Schemas of the attendant-workflow bodies (transfer, queue, follow-ups, history), served in
the OpenAPI description like those of `api_schemas`."""

from __future__ import annotations

from desktop.api_schemas import ID, INT, ISO_TIME, NUMBER, STR, Schema, nullable, obj
from desktop.pipeline import STAGES, STATUSES
from llm.tasks import INTENTS, SENTIMENTS

NOTE: Schema = nullable({"type": "string", "maxLength": 2000})
DUE_AT: Schema = {"type": "string", "description": "ISO 8601 with its offset, e.g. 2026-03-10T09:00:00-03:00"}
SENTIMENT = nullable({"enum": list(SENTIMENTS)})

TRANSFER = obj(("to_user",), closed=True, to_user={**ID, "description": "a user's id or username"}, note=NOTE)
TRANSFER_RESULT = obj(
    ("id", "owner", "status"),
    id=STR,
    owner=STR,
    owner_username=STR,
    status={"enum": list(STATUSES)},
    transferred_at=ISO_TIME,
)
ATTENDANTS = obj(("items",), items={"type": "array", "items": obj(("id", "username"), id=STR, username=STR)})

FOLLOWUP_CREATE = obj(("conversation_id", "due_at"), closed=True, conversation_id=ID, due_at=DUE_AT, note=NOTE)
FOLLOWUP_PATCH = obj(closed=True, due_at=DUE_AT, note=NOTE, done={"type": "boolean"})
FOLLOWUP = obj(
    ("id", "conversation_id", "due_at", "done"),
    id=STR,
    conversation_id=STR,
    contact_id=nullable(STR),
    title=nullable({**STR, "description": "the conversation's title"}),
    user=STR,
    due_at=ISO_TIME,
    note=STR,
    done={"type": "boolean"},
    done_at=nullable(ISO_TIME),
    due={"type": "boolean", "description": "not done and its time has come"},
    created_at=ISO_TIME,
)
FOLLOWUP_LIST = obj(("items",), items={"type": "array", "items": FOLLOWUP})
FOLLOWUP_QUERY = {
    "due": {"enum": ["true", "false"], "description": "true: only the not-done ones whose time has come"},
    "done": {"enum": ["true", "false"]},
    "conversation_id": STR,
    "user": {**STR, "description": "admins: another user's id, or `all`"},
}

QUEUE_ITEM = obj(
    ("conversation_id", "title", "status", "waiting_seconds", "sentiment", "sla_first_response_seconds", "overdue"),
    conversation_id=STR,
    contact_id=STR,
    title=nullable(STR),
    status={"enum": list(STATUSES)},
    waiting_seconds=nullable({**INT, "description": "since the first unanswered customer message (or the hand-over)"}),
    customer_waiting={"type": "boolean"},
    sentiment=SENTIMENT,
    sla_first_response_seconds=INT,
    overdue={"type": "boolean", "description": "the customer has waited longer than the SLA target"},
    transfer_note={**STR, "description": "present on a chat handed over to the caller and not yet answered"},
    followup=obj(("id", "due_at"), id=STR, due_at=ISO_TIME, note=STR),
)
QUEUE = obj(("items", "count"), items={"type": "array", "items": QUEUE_ITEM}, count=INT, user=STR, now=ISO_TIME)
QUEUE_QUERY = {"user": {**STR, "description": "admins: another attendant's id or username"}}

_PERIOD = obj(
    ("conversation_id", "started_at", "ended_at", "summary", "sentiment", "intent"),
    conversation_id=STR,
    started_at=ISO_TIME,
    ended_at=nullable({**ISO_TIME, "description": "null while the period is still open"}),
    messages=INT,
    summary=nullable(STR),
    sentiment=SENTIMENT,
    intent=nullable({"enum": list(INTENTS)}),
    sentiments={
        "type": "array",
        "items": obj(("at", "label"), at=ISO_TIME, label={"enum": list(SENTIMENTS)}, score=nullable(NUMBER)),
    },
    transfers={"type": "array", "items": obj(("at", "to"), at=ISO_TIME, by=nullable(STR), to=STR, note=nullable(STR))},
    stage_changes={
        "type": "array",
        "items": obj(("at", "stage"), at=ISO_TIME, by=nullable(STR), stage={"enum": list(STAGES)}),
    },
    followups={
        "type": "array",
        "items": obj(("id", "due_at", "done"), id=STR, due_at=ISO_TIME, done={"type": "boolean"}, note=STR),
    },
)
CONTACT_HISTORY = obj(
    ("contact_id", "items", "next_cursor"),
    contact_id=STR,
    notes=nullable(STR),
    stage={"enum": list(STAGES)},
    total=INT,
    items={"type": "array", "items": _PERIOD},
    next_cursor=nullable({**STR, "description": "pass as ?cursor= for the next (older) page"}),
)
HISTORY_QUERY = {"limit": {"type": "string", "pattern": "^[0-9]+$", "description": "1-500, default 20"}, "cursor": STR}
