"""The attendant's day: hand-overs, the queue of who waits, follow-ups and the contact's history."""

from __future__ import annotations

import time
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from desktop.auth import Principal
from desktop.errors import Forbidden, InvalidInput, NotFound
from desktop.metrics import instant
from desktop.store import accounts, chats, followups, history, queue, timeline
from desktop.store.database import Store
from desktop.usecases import access, audit, queue_order
from desktop.usecases.runtime import Runtime

MAX_NOTE = 2000
HISTORY_PAGE = 20


def iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds") if at is not None else None


def _note(body: dict[str, Any], name: str = "note") -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_NOTE):
        raise InvalidInput(f"{name} must be a string of at most {MAX_NOTE} characters", field=name)
    return value or None


def _due_at(value: Any) -> float:
    """An ISO 8601 time with its offset (a reminder is an instant, not a wall-clock time)."""
    moment = None
    if isinstance(value, str) and value.isascii() and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None or not 2000 <= moment.year <= 2200:
        raise InvalidInput(
            "due_at must be an ISO 8601 time with its offset, e.g. 2026-03-10T09:00:00-03:00", field="due_at"
        )
    return moment.timestamp()


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    return body


class Workflow:
    def __init__(self, rt: Runtime):
        self.rt = rt

    # -- hand-over --------------------------------------------------------------------------
    async def transfer(self, principal: Principal, conversation_id: str, body: Any) -> dict[str, Any]:
        body = _body(body)
        unknown = set(body) - {"to_user", "note"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown field {name}", field=name)
        to = body.get("to_user")
        if not isinstance(to, str) or not to or len(to) > 200:
            raise InvalidInput("to_user must be a user id or username", field="to_user")
        note = _note(body)
        row = await self.rt.db(chats.conversation_row, conversation_id)
        if not principal.is_admin and chats.effective_owner(row) != principal.user_id:
            raise Forbidden("this conversation is not yours to hand over", code="not_your_conversation")

        def give(store: Store) -> dict[str, Any]:
            user = store.q1("SELECT id, username, disabled FROM users WHERE id=? OR username=?", (to, to))
            if not user or user["disabled"]:
                raise NotFound("no such user", code="user_not_found")
            out = timeline.transfer(store, row, user["id"], principal.user_id, note)
            audit.entry(store, principal, "conversation.transfer", conversation_id, f"to={user['id']}")
            return out | {"owner_username": user["username"], "transferred_at": iso(out["transferred_at"])}

        return await self.rt.db(give)

    async def attendants(self, principal: Principal) -> dict[str, Any]:
        """Who a chat can be handed to: names only, for every signed-in user."""
        rows = await self.rt.db(accounts.users)
        return {"items": [{"id": r["id"], "username": r["username"]} for r in rows if not r["disabled"]]}

    # -- queue ------------------------------------------------------------------------------
    async def queue(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        unknown = set(query) - {"user"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown parameter {name}", field=name)
        user = principal.user_id
        if query.get("user"):
            if query["user"] != user:
                access.require_admin(principal)
            found = await self.rt.db(accounts.user_by_name, query["user"]) or (
                {"id": query["user"]} if await self.rt.db(accounts.user_exists, query["user"]) else None
            )
            if not found:
                raise NotFound("no such user", code="user_not_found")
            user = found["id"]
        return await self.rt.db(self._queue, user, time.time())

    def _queue(self, store: Store, user: str, now: float) -> dict[str, Any]:
        settings = self.rt.settings
        tz = zoneinfo.ZoneInfo(settings.timezone)
        sla = settings.sla_first_response_minutes * 60
        waiting: dict[str, dict[str, Any]] = {}
        for r in queue.candidates(store, user):
            since = instant(r["waiting_since"], tz)
            handed = r["transferred_at"] is not None and not r["answered_since_transfer"]
            if since is None and not handed:
                continue
            # Nobody's customer message waits: a hand-over waits from the moment it was made.
            wait = max(0.0, now - (since if since is not None else r["transferred_at"]))
            waiting[r["id"]] = {
                "conversation_id": r["id"],
                "contact_id": r["contact_id"],
                "status": r["status"],
                "waiting_seconds": round(wait),
                "customer_waiting": since is not None,
                "sentiment": r["sentiment"],
                "sla_first_response_seconds": sla,
                "overdue": since is not None and wait > sla,
                "transferred": handed,
            }
        due: list[dict[str, Any]] = []
        for f in queue.due_followups(store, user, now):
            entry = {"id": f["id"], "due_at": iso(f["due_at"]), "note": None, "_sealed": f["note"]}
            item = waiting.get(f["conversation_id"])
            if item is not None:
                item.setdefault("followup", entry)
                continue
            due.append(
                {
                    "conversation_id": f["conversation_id"],
                    "contact_id": f["contact_id"],
                    "status": f["status"],
                    "waiting_seconds": None,
                    "customer_waiting": False,
                    "sentiment": None,
                    "sla_first_response_seconds": sla,
                    "overdue": False,
                    "followup": entry,
                }
            )
        items = queue_order.order(list(waiting.values()), due)
        sealed = queue.sealed_fields(store, sorted({i["conversation_id"] for i in items}))
        for item in items:
            fields = sealed.get(item["conversation_id"], {})
            item["title"] = fields.get("title")
            if item.pop("transferred", False) and fields.get("transfer_note"):
                item["transfer_note"] = fields["transfer_note"]
            if "followup" in item:
                f = item["followup"]
                f["note"] = followups.unseal_note(store, f["id"], f.pop("_sealed"))
        return {"items": items, "count": len(items), "user": user, "now": iso(now)}

    # -- follow-ups -------------------------------------------------------------------------
    async def list_followups(self, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
        unknown = set(query) - {"due", "conversation_id", "done", "user"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown parameter {name}", field=name)
        flags = {}
        for name in ("due", "done"):
            if name in query:
                if query[name] not in ("true", "false"):
                    raise InvalidInput(f"{name} must be true or false", field=name)
                flags[name] = query[name] == "true"
        user: str | None = principal.user_id
        if query.get("user"):
            access.require_admin(principal)
            user = None if query["user"] == "all" else query["user"]
        conv = query.get("conversation_id")
        if conv:
            await access.conversation(self.rt, principal, conv)
        done = flags.get("done", False if flags.get("due") else None)
        items = await self.rt.db(
            followups.listing,
            user,
            due_before=time.time() if flags.get("due") else None,
            conversation_id=conv or None,
            done=done,
        )
        return {"items": [self._out(f) for f in items]}

    async def create_followup(self, principal: Principal, body: Any) -> dict[str, Any]:
        body = _body(body)
        unknown = set(body) - {"conversation_id", "due_at", "note"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown field {name}", field=name)
        conv_id = body.get("conversation_id")
        if not isinstance(conv_id, str) or not conv_id:
            raise InvalidInput("conversation_id is required", field="conversation_id")
        due = _due_at(body.get("due_at"))
        note = _note(body)
        row = await access.conversation(self.rt, principal, conv_id)

        def make(store: Store) -> dict[str, Any]:
            out = followups.create(store, row, principal.user_id, due, note)
            audit.entry(store, principal, "followup.create", out["id"], f"conversation={conv_id}")
            return out

        return self._out(await self.rt.db(make))

    async def _mine(self, principal: Principal, followup_id: str) -> dict[str, Any]:
        row = await self.rt.db(followups.row, followup_id)
        if not principal.is_admin and row["user_id"] != principal.user_id:
            raise NotFound("follow-up not found")
        return row

    async def patch_followup(self, principal: Principal, followup_id: str, body: Any) -> dict[str, Any]:
        body = _body(body)
        await self._mine(principal, followup_id)
        changes: dict[str, Any] = {}
        for name in body:
            if name == "due_at":
                changes["due_at"] = _due_at(body["due_at"])
            elif name == "note":
                changes["note"] = _note(body)
            elif name == "done":
                if not isinstance(body["done"], bool):
                    raise InvalidInput("done must be true or false", field="done")
                changes["done"] = body["done"]
            else:
                raise InvalidInput(f"unknown field {name}", field=name)

        def change(store: Store) -> dict[str, Any]:
            out = followups.update(store, followup_id, changes)
            audit.entry(store, principal, "followup.update", followup_id, audit.fields_detail(changes))
            return out

        return self._out(await self.rt.db(change))

    async def delete_followup(self, principal: Principal, followup_id: str) -> None:
        await self._mine(principal, followup_id)

        def remove(store: Store) -> None:
            followups.delete(store, followup_id)
            audit.entry(store, principal, "followup.delete", followup_id)

        await self.rt.db(remove)

    @staticmethod
    def _out(f: dict[str, Any]) -> dict[str, Any]:
        return f | {
            "due_at": iso(f["due_at"]),
            "done_at": iso(f["done_at"]),
            "created_at": iso(f["created_at"]),
            "due": not f["done"] and f["due_at"] <= time.time(),
        }

    # -- history ----------------------------------------------------------------------------
    async def contact_history(self, principal: Principal, contact_id: str, query: dict[str, str]) -> dict[str, Any]:
        unknown = set(query) - {"limit", "cursor"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown parameter {name}", field=name)
        limit = _int(query.get("limit", str(HISTORY_PAGE)), "limit", 1, 500)
        offset = _int(query["cursor"], "cursor", 0, 10**9) if query.get("cursor") else 0
        await access.check_contact(self.rt, principal, contact_id)

        def read(store: Store) -> dict[str, Any]:
            card = chats.contact(store, contact_id)
            every = history.periods(store, contact_id)
            page = history.fill(store, contact_id, every[offset : offset + limit])
            for p in page:
                p["started_at"], p["ended_at"] = iso(p["started_at"]), iso(p["ended_at"])
                for group in ("sentiments", "transfers", "stage_changes"):
                    for x in p[group]:
                        x["at"] = iso(x["at"])
                for f in p["followups"]:
                    f["due_at"] = iso(f["due_at"])
            more = offset + limit < len(every)
            return {
                "contact_id": contact_id,
                "notes": card["notes"],
                "stage": card["stage"],
                "total": len(every),
                "items": page,
                "next_cursor": str(offset + limit) if more else None,
            }

        return await self.rt.db(read)


def _int(value: str, name: str, low: int, high: int) -> int:
    if not (0 < len(value) <= 10 and value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(value)
