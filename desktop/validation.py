"""Validation of request bodies: each error names the offending field (API.md error shape)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from desktop.errors import InvalidInput

DIRECTIONS = ("in", "out")
KINDS = ("text", "image", "audio", "deleted", "system", "other")
# ASCII digits only (\d would take Arabic-Indic or fullwidth ones), nothing after the end
# (fullmatch: `$` would let a trailing newline through); the calendar is checked after.
_TS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?")
MAX_VALUE = 1e15  # a contact's deal value: beyond any real deal, and exact as a JSON number in every client


def _err(field: str, message: str, code: str = "invalid_capture") -> InvalidInput:
    return InvalidInput(f"{field} {message}", code=code, field=field)


def _str(obj: dict, key: str, path: str, *, nullable: bool = False, max_len: int = 1000) -> str | None:
    value = obj.get(key)
    if value is None:
        if nullable:
            return None
        raise _err(f"{path}.{key}", "is required")
    if not isinstance(value, str):
        raise _err(f"{path}.{key}", "must be a string")
    if len(value) > max_len:
        raise _err(f"{path}.{key}", f"is longer than {max_len} characters")
    return value


def capture(body: Any, *, max_messages: int, max_text_chars: int) -> dict[str, Any]:
    """A clean copy of a capture, or InvalidInput naming the first bad field."""
    if not isinstance(body, dict):
        raise _err("body", "must be a JSON object")
    chat = body.get("chat")
    if not isinstance(chat, dict):
        raise _err("chat", "must be an object")
    chat_id = _str(chat, "id", "chat", nullable=True, max_len=200)
    title = _str(chat, "title", "chat", nullable=True, max_len=500)
    phone = _str(chat, "phone", "chat", nullable=True, max_len=40)
    is_group = chat.get("is_group", False)
    if not isinstance(is_group, bool):
        raise _err("chat.is_group", "must be true or false")
    if not chat_id and not title:
        raise _err("chat", "needs an id or a title")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _err("messages", "must be an array")
    if len(messages) > max_messages:
        raise _err("messages", f"has {len(messages)} items; at most {max_messages} are accepted")
    clean = []
    for i, m in enumerate(messages):
        path = f"messages[{i}]"
        if not isinstance(m, dict):
            raise _err(path, "must be an object")
        mid = _str(m, "id", path, max_len=300)
        if not mid:
            raise _err(f"{path}.id", "must not be empty")
        direction = m.get("direction")
        if direction not in DIRECTIONS:
            raise _err(f"{path}.direction", "must be 'in' or 'out'")
        kind = m.get("kind", "text")
        if kind not in KINDS:
            raise _err(f"{path}.kind", "must be one of " + ", ".join(KINDS))
        text = m.get("text")
        if text is not None:
            if not isinstance(text, str):
                raise _err(f"{path}.text", "must be a string or null")
            if len(text) > max_text_chars:
                raise _err(f"{path}.text", f"is longer than {max_text_chars} characters")
        ts = _str(m, "timestamp", path, nullable=True, max_len=40)
        if ts is not None and local_time(ts) is None:
            raise _err(f"{path}.timestamp", "must be a real local time in ISO 8601 like 2026-03-10T09:14:00")
        author = _str(m, "author", path, nullable=True, max_len=300)
        clean.append({"id": mid, "direction": direction, "kind": kind, "text": text, "timestamp": ts, "author": author})
    client = body.get("client")
    if client is not None and not isinstance(client, dict):
        raise _err("client", "must be an object")
    return {
        "chat": {"id": chat_id, "title": title, "is_group": is_group, "phone": phone},
        "messages": clean,
        "client": client or {},
    }


def local_time(value: str) -> datetime | None:
    """The time `value` names (YYYY-MM-DDTHH:MM[:SS[.ffffff]], no offset), or None when it is not
    a real one: month 13, February 30, 24:00, a leap second and year 0 are all refused."""
    m = _TS.fullmatch(value)
    if not m:
        return None
    year, month, day, hour, minute, second, frac = m.groups()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), int((frac or "0").ljust(6, "0"))
        )
    except ValueError:
        return None


def credentials(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    username = body.get("username")
    password = body.get("password")
    if not isinstance(username, str) or not username.strip():
        raise InvalidInput("username is required", field="username")
    if not isinstance(password, str) or not password:
        raise InvalidInput("password is required", field="password")
    return username.strip(), password


def username(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", name):
        raise InvalidInput("username must be 2-64 letters, digits or _ . @ -", field="username")
    return name


def password(pw: Any) -> str:
    if not isinstance(pw, str) or len(pw) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password")
    if len(pw) > 1024:
        raise InvalidInput("password is too long", field="password")
    return pw


def device_name(body: dict) -> str:
    dev = body.get("device", "device")
    if isinstance(dev, dict):
        dev = dev.get("name", "device")
    if not isinstance(dev, str):
        raise InvalidInput("device must be a string", field="device")
    return dev.strip()[:100] or "device"


def contact_patch(body: Any, stages: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "stage":
            if value not in stages:
                raise InvalidInput("stage must be one of " + ", ".join(stages), field="stage")
            out["stage"] = value
        elif key == "value":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= MAX_VALUE  # also false for NaN and the infinities
            ):
                raise InvalidInput(f"value must be a number from 0 to {MAX_VALUE:.0e} or null", field="value")
            out["value"] = value
        elif key == "tags":
            if not isinstance(value, list) or not all(isinstance(t, str) and 0 < len(t) <= 50 for t in value):
                raise InvalidInput("tags must be a list of short strings", field="tags")
            out["tags"] = sorted(set(value))[:50]
        elif key in ("notes", "name", "phone"):
            if value is not None and (not isinstance(value, str) or len(value) > 10_000):
                raise InvalidInput(f"{key} must be a string", field=key)
            out[key] = value
        elif key == "owner":
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidInput("owner must be a user id or null", field="owner")
            out["owner_id"] = value
        else:
            raise InvalidInput(f"unknown field {key}", field=key)
    return out


def quick_reply(body: Any, intents: tuple[str, ...], *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object", field="body")
    out: dict[str, Any] = {}
    if "shortcut" in body or not partial:
        sc = body.get("shortcut")
        if not isinstance(sc, str) or not re.fullmatch(r"[\w-]{1,32}", sc.lstrip("/")):
            raise InvalidInput("shortcut must be 1-32 letters, digits, _ or -", field="shortcut")
        out["shortcut"] = sc.lstrip("/").lower()
    if "text" in body or not partial:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise InvalidInput("text must be 1-2000 characters", field="text")
        out["text"] = text.strip()
    if "intents" in body or not partial:
        got = body.get("intents", [])
        if not isinstance(got, list) or any(i not in intents for i in got):
            raise InvalidInput("intents must be a list of: " + ", ".join(intents), field="intents")
        out["intents"] = sorted(set(got))
    return out
