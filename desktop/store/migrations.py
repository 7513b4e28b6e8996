"""Named schema migrations, applied in order; a backup is taken before any of them runs
on a database that already holds data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def _initial(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {"id": str, "username": str, "role": str, "pw_hash": str, "disabled": int, "created_at": float},
        pk="id",
    )
    db["users"].create_index(["username"], unique=True)
    db["devices"].create(
        {
            "id": str,
            "user_id": str,
            "name": str,
            "origin": str,
            "created_at": float,
            "last_seen": float,
            "revoked_at": float,
        },
        pk="id",
    )
    db["refresh_tokens"].create(
        {"hash": str, "device_id": str, "created_at": float, "expires_at": float, "used_at": float}, pk="hash"
    )
    db["pairing_codes"].create(
        {"hash": str, "user_id": str, "created_at": float, "expires_at": float, "used_at": float}, pk="hash"
    )
    db["contacts"].create(
        {
            "id": str,
            "kid": str,
            "jid_hash": str,
            "title_hash": str,
            "phone_hash": str,
            "name": bytes,
            "phone": bytes,
            "is_group": int,
            "stage": str,
            "value": float,
            "tags": bytes,
            "notes": bytes,
            "owner_id": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["contacts"].create_index(["jid_hash"])
    db["contacts"].create_index(["title_hash"])
    db["conversations"].create(
        {
            "id": str,
            "contact_id": str,
            "chat_hash": str,
            "title_hash": str,
            "title": bytes,
            "is_group": int,
            "status": str,
            "owner_id": str,
            "created_at": float,
            "updated_at": float,
            "last_message_at": str,
            "resolved_at": float,
            "message_count": int,
        },
        pk="id",
    )
    db["conversations"].create_index(["chat_hash"])
    db["conversations"].create_index(["title_hash"])
    db["conversations"].create_index(["updated_at"])
    db["messages"].create(
        {
            "id": str,
            "conversation_id": str,
            "msg_hash": str,
            "direction": str,
            "kind": str,
            "author": bytes,
            "text": bytes,
            "ts": str,
            "sort_ts": str,
            "seq": int,
            "created_at": float,
            "captured_by": str,
        },
        pk="id",
    )
    db["messages"].create_index(["conversation_id", "msg_hash"], unique=True)
    db["messages"].create_index(["conversation_id", "sort_ts", "seq"])
    db["insights"].create(
        {
            "id": str,
            "conversation_id": str,
            "state": str,
            "sentiment_label": str,
            "sentiment_score": float,
            "intent_label": str,
            "intent_confidence": float,
            "summary": bytes,
            "suggestions": bytes,
            "model": str,
            "analyzed_message_id": str,
            "error_code": str,
            "error_message": str,
            "timings": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["insights"].create_index(["conversation_id", "created_at"])
    db["suggestion_feedback"].create(
        {
            "id": str,
            "suggestion_id": str,
            "insight_id": str,
            "conversation_id": str,
            "user_id": str,
            "action": str,
            "created_at": float,
        },
        pk="id",
    )
    db["label_corrections"].create(
        {
            "id": str,
            "conversation_id": str,
            "user_id": str,
            "task": str,
            "label": str,
            "lang": str,
            "text": bytes,
            "features": str,
            "created_at": float,
        },
        pk="id",
    )
    db["jobs"].create(
        {
            "id": str,
            "kind": str,
            "state": str,
            "done": int,
            "total": int,
            "message": str,
            "result": str,
            "created_by": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["audit_log"].create(
        {"id": int, "at": float, "user_id": str, "action": str, "target": str, "detail": str}, pk="id"
    )


def _quick_replies(db: sqlite_utils.Database) -> None:
    # The business's own canned answers: not customer data, so kept clear.
    db["quick_replies"].create(
        {
            "id": str,
            "shortcut": str,
            "text": str,
            "intents": str,
            "created_by": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["quick_replies"].create_index(["shortcut"], unique=True)


def _adapters(db: sqlite_utils.Database) -> None:
    # The team's trained label adapters (weights learned from customer texts: encrypted).
    db["adapters"].create({"task": str, "blob": bytes, "examples": int, "trained_at": float}, pk="task")


def _imported_labels(db: sqlite_utils.Database) -> None:
    # Examples imported from a shop's own rated reviews (`conversa labels import`): no
    # conversation, text sealed with the general key, and the review's 1-5 stars.
    db["label_corrections"].add_column("stars", int)


def _unverified_conversations(db: sqlite_utils.Database) -> None:
    # A capture without a chat id is keyed by its title and the capturing attendant and stays
    # unverified (verified=0) until a capture with the chat id merges it into the real chat. Its
    # messages keep their WhatsApp id sealed (`ident`) so the merge can re-key their de-duplication.
    # Conversations stored before this rule without a chat id are unverified too.
    db["conversations"].add_column("verified", int, not_null_default=1)
    db.execute("UPDATE conversations SET verified=0 WHERE chat_hash IS NULL")
    db["messages"].add_column("ident", bytes)
    db["conversations"].create_index(["title_hash", "owner_id"])


def _audit_devices(db: sqlite_utils.Database) -> None:
    # Audit rows say from which device a change came, and are read by time (`GET /audit`).
    db["audit_log"].add_column("device_id", str)
    db["audit_log"].create_index(["at"])


def _summary_source(db: sqlite_utils.Database) -> None:
    # Where the shown summary came from: "model" (passed the summary check) or "extractive".
    db["insights"].add_column("summary_source", str)


def _contact_external_ids(db: sqlite_utils.Database) -> None:
    # Leads imported from another CRM keep that system's client id: a keyed hash (`ext_hash`,
    # unique) to find the contact again on the next import, and the id itself sealed. Phones are
    # looked up by their hash too, so it gets an index. `lead_score` is the import's 0-100 score;
    # `company` is sealed like the other fields of the card.
    db["contacts"].add_column("ext_hash", str)
    db["contacts"].add_column("company", bytes)
    db["contacts"].add_column("external_id", bytes)
    db["contacts"].add_column("lead_score", int)
    db.execute("CREATE UNIQUE INDEX idx_contacts_ext_hash ON contacts(ext_hash) WHERE ext_hash IS NOT NULL")
    db["contacts"].create_index(["phone_hash"])


def _attendant_workflow(db: sqlite_utils.Database) -> None:
    # The attendant's day (issue 14): hand-overs, follow-ups and a timeline of what happened to a
    # conversation (status changes, re-opens, transfers, stage changes) for the contact's history.
    # Transfer and follow-up notes are the attendant's words about a customer: sealed with the
    # contact's key like the card's notes. Times are POSIX seconds (server clock).
    db["conversations"].add_column("transfer_note", bytes)
    db["conversations"].add_column("transferred_at", float)
    db["conversations"].add_column("transferred_by", str)
    db["conversations"].create_index(["status"])
    # An attendant's queue is read from their own conversations (owner, or their contacts').
    db["conversations"].create_index(["owner_id", "status"])
    db["conversations"].create_index(["contact_id"])
    db["contacts"].create_index(["owner_id"])
    # The queue reads the last reply and the first unanswered customer message of each chat.
    db["messages"].create_index(["conversation_id", "direction", "sort_ts"])
    db["followups"].create(
        {
            "id": str,
            "conversation_id": str,
            "user_id": str,
            "due_at": float,
            "note": bytes,
            "done_at": float,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["followups"].create_index(["user_id", "done_at", "due_at"])
    db["followups"].create_index(["conversation_id"])
    db["conversation_events"].create(
        {
            "id": str,
            "conversation_id": str,
            "contact_id": str,
            "at": float,
            "user_id": str,
            "kind": str,  # status | reopen | transfer | stage
            "value": str,  # the new status or stage, or the receiving user's id (never text)
            "note": bytes,
        },
        pk="id",
    )
    db["conversation_events"].create_index(["conversation_id", "at"])
    db["conversation_events"].create_index(["contact_id", "at"])
    # The queue's mood prefers an attendant's correction newer than the model's label.
    db["label_corrections"].create_index(["conversation_id", "task", "created_at"])


def _knowledge(db: sqlite_utils.Database) -> None:
    # The shop's knowledge base (FAQ, policies, catalogue). It is business data, not a customer's,
    # yet it is sealed with the general data key rather than kept clear in an FTS5 table: uploaded
    # files are whatever an admin has (a policy quoting a customer case, a supplier's phone), FTS5
    # would keep every word readable in its shadow tables, and the same in-memory BM25 index
    # (accent folding, Portuguese stemming) then serves both the knowledge and the team's past
    # replies, which must stay encrypted. Passage ids are `<doc id>.<n>`, cited by suggestions.
    db["knowledge_docs"].create(
        {
            "id": str,
            "title": bytes,
            "kind": str,
            "filename": bytes,
            "source": bytes,
            "chars": int,
            "passages": int,
            "created_by": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["knowledge_passages"].create({"id": str, "doc_id": str, "seq": int, "text": bytes, "fields": bytes}, pk="id")
    db["knowledge_passages"].create_index(["doc_id", "seq"])


def _metric_totals(db: sqlite_utils.Database) -> None:
    # /metrics over 100,000 conversations reads kept rows instead of every message (desktop/metric_totals.py).
    # Triggers mark what changed whatever wrote it (capture, merge, erase, import, restore); the
    # rows are rebuilt from the marked conversations on the database thread before a read and in the
    # background. Every existing conversation starts marked. `att` is the conversation's attendant
    # (its contact's owner, else whoever captured it), kept so a period is summed without joins.
    for statement in _statements(
        """
        CREATE TABLE metric_meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
        CREATE TABLE metric_dirty(conversation_id TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE health_dirty(contact_id TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE metric_convs(conversation_id TEXT PRIMARY KEY, contact_id TEXT, att TEXT, open INT,
            sentiment TEXT, intent TEXT, resolution REAL) WITHOUT ROWID;
        CREATE INDEX metric_convs_att ON metric_convs(att, contact_id);
        CREATE INDEX metric_convs_contact ON metric_convs(contact_id);
        CREATE TABLE metric_days(conversation_id TEXT, day TEXT, prev_day TEXT, att TEXT, open INT,
            sentiment TEXT, intent TEXT, resolution REAL, n_in INT, n_out INT,
            PRIMARY KEY(conversation_id, day)) WITHOUT ROWID;
        CREATE INDEX metric_days_resolved ON metric_days(day, prev_day, att, resolution) WHERE resolution IS NOT NULL;
        CREATE TABLE metric_runs(conversation_id TEXT, day TEXT, att TEXT, seconds REAL);
        CREATE INDEX metric_runs_conv ON metric_runs(conversation_id);
        CREATE TABLE metric_labels(conversation_id TEXT, day TEXT, att TEXT, sentiment TEXT);
        CREATE INDEX metric_labels_conv ON metric_labels(conversation_id);
        -- What a request reads: the rows above summed by what /metrics groups on ('' for none).
        CREATE TABLE metric_day_counts(day TEXT, prev_day TEXT, att TEXT, open INT, sentiment TEXT, intent TEXT,
            n INT, n_in INT, n_out INT, PRIMARY KEY(day, prev_day, att, open, sentiment, intent)) WITHOUT ROWID;
        CREATE INDEX metric_day_counts_att ON metric_day_counts(att, day);
        CREATE TABLE metric_run_counts(day TEXT, att TEXT, seconds REAL, n INT,
            PRIMARY KEY(day, att, seconds)) WITHOUT ROWID;
        CREATE INDEX metric_run_counts_att ON metric_run_counts(att, day);
        CREATE TABLE metric_label_counts(day TEXT, att TEXT, sentiment TEXT, n INT,
            PRIMARY KEY(day, att, sentiment)) WITHOUT ROWID;
        CREATE TABLE contact_health(contact_id TEXT PRIMARY KEY, stage TEXT, value, last_at REAL,
            waiting_since REAL, negative INT, cp_at REAL, cp_last_at REAL, cp_waiting_since REAL,
            cp_negative INT, score INT, previous INT, falling INT, valid_until REAL) WITHOUT ROWID;
        CREATE INDEX contact_health_stage ON contact_health(stage, value);
        CREATE INDEX contact_health_score ON contact_health(score, contact_id, previous) WHERE score IS NOT NULL;
        CREATE INDEX contact_health_stale ON contact_health(valid_until);

        CREATE TRIGGER metric_msg_ins AFTER INSERT ON messages BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.conversation_id); END;
        CREATE TRIGGER metric_msg_del AFTER DELETE ON messages BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (OLD.conversation_id); END;
        CREATE TRIGGER metric_msg_upd AFTER UPDATE OF conversation_id, direction, kind, ts, sort_ts, seq
            ON messages BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (OLD.conversation_id);
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.conversation_id); END;
        CREATE TRIGGER metric_ins_ins AFTER INSERT ON insights BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.conversation_id); END;
        CREATE TRIGGER metric_ins_del AFTER DELETE ON insights BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (OLD.conversation_id); END;
        CREATE TRIGGER metric_ins_upd AFTER UPDATE OF conversation_id, sentiment_label, intent_label, created_at
            ON insights BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (OLD.conversation_id);
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.conversation_id); END;
        CREATE TRIGGER metric_conv_ins AFTER INSERT ON conversations BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.id); END;
        CREATE TRIGGER metric_conv_del AFTER DELETE ON conversations BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (OLD.id);
            INSERT OR IGNORE INTO health_dirty VALUES (OLD.contact_id); END;
        CREATE TRIGGER metric_conv_upd AFTER UPDATE OF contact_id, status, owner_id, created_at, resolved_at
            ON conversations BEGIN
            INSERT OR IGNORE INTO metric_dirty VALUES (NEW.id);
            INSERT OR IGNORE INTO health_dirty VALUES (OLD.contact_id); END;
        CREATE TRIGGER metric_contact_owner AFTER UPDATE OF owner_id ON contacts BEGIN
            INSERT OR IGNORE INTO metric_dirty SELECT id FROM conversations WHERE contact_id = NEW.id; END;
        CREATE TRIGGER metric_contact_stage AFTER UPDATE OF stage, value ON contacts BEGIN
            UPDATE contact_health SET stage = NEW.stage, value = NEW.value, valid_until = -1
            WHERE contact_id = NEW.id; END;
        CREATE TRIGGER metric_contact_del AFTER DELETE ON contacts BEGIN
            DELETE FROM contact_health WHERE contact_id = OLD.id;
            DELETE FROM health_dirty WHERE contact_id = OLD.id; END;

        INSERT INTO metric_dirty SELECT id FROM conversations;
        """
    ):
        db.execute(statement)


def _statements(script: str) -> list[str]:
    """A script's statements one by one (executescript would commit the migration's transaction)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_initial", _initial),
    ("0002_quick_replies", _quick_replies),
    ("0003_adapters", _adapters),
    ("0004_imported_labels", _imported_labels),
    ("0005_unverified_conversations", _unverified_conversations),
    ("0006_audit_devices", _audit_devices),
    ("0007_summary_source", _summary_source),
    ("0008_contact_external_ids", _contact_external_ids),
    ("0010_attendant_workflow", _attendant_workflow),
    ("0011_knowledge", _knowledge),
    ("0012_metric_totals", _metric_totals),
]
