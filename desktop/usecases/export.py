"""Exports (admins, audited): CSV for Power BI and Excel, streamed in batches, and a contact's
full dossier as JSON (LGPD access request).

CSV: UTF-8 with a BOM (Excel then reads the accents right), `,` or `;` (pt-BR Excel) between
cells, ISO 8601 times, `.` decimals, one row per record. A text cell that a spreadsheet would
take for a formula (starting with = + - @, a tab or a carriage return) gets a leading `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from desktop.auth import Principal
from desktop.errors import InvalidInput
from desktop.store import exports
from desktop.store.database import Store
from desktop.usecases import access, audit
from desktop.usecases.runtime import Runtime

BOM = "\ufeff"
SEPARATORS = (",", ";")
BATCH = 1000  # rows read per trip to the database thread
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A cell a spreadsheet will show as text, never run (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # `.` decimals whatever the locale; exact round trip
    if isinstance(value, int):
        return str(value)
    text = str(value)
    # Ids, labels and times are ours; whatever a person or WhatsApp wrote is neutralised.
    return neutralise(text) if column in exports.TEXT_COLUMNS else text


def separator(query: dict[str, str]) -> str:
    sep = query.get("sep", ",")
    if sep not in SEPARATORS:
        raise InvalidInput("sep must be , or ;", field="sep")
    return sep


class Exports:
    def __init__(self, rt: Runtime):
        self.rt = rt

    async def contact(self, principal: Principal, contact_id: str) -> dict[str, Any]:
        access.require_admin(principal)

        def read(store: Store) -> dict[str, Any]:
            out = exports.contact_dossier(store, contact_id)
            audit.entry(store, principal, "contact.export", contact_id)
            return out

        return await self.rt.db(read)

    async def start_csv(self, principal: Principal, kind: str, query: dict[str, str]) -> AsyncIterator[bytes]:
        """Check the request and audit it, then give the CSV's chunks (one per batch)."""
        access.require_admin(principal)
        unknown = set(query) - {"sep"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"unknown parameter {name}", field=name)
        sep = separator(query)
        await self.rt.db(audit.entry, principal, f"export.{kind}", "", f"sep={sep}")
        return self._chunks(kind, sep)

    async def _chunks(self, kind: str, sep: str) -> AsyncIterator[bytes]:
        columns = exports.BATCHES[kind][0]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
        buf.write(BOM)
        writer.writerow(columns)
        after: str | None = ""
        while after is not None:
            rows, after = await self.rt.db(exports.next_batch, kind, after, BATCH)
            for row in rows:
                writer.writerow([cell(c, row[c]) for c in columns])
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
