"""Audit tab: who changed what, when, from which device; filtered by period, person and action,
newest first, older pages on demand."""

from __future__ import annotations

import re
from tkinter import ttk
from typing import Any

from desktop.ui import format as fmt
from desktop.ui.api_client import ApiError
from desktop.ui.tabs import Tab, TabContext

_DAY_PT = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_DAY_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- model ----------------------------------------------------------------------------------------
def parse_day(text: str) -> str | None:
    """"01/12/2026" or "2026-12-01" → "2026-12-01"; "" → None; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    m = _DAY_PT.match(text)
    if m:
        return f"{m.group(3)}-{m.group(2)}-{m.group(1)}"
    if _DAY_ISO.match(text):
        return text
    raise ValueError(text)


def audit_query(since: str, until: str, actor: str, action: str, cursor: str | None = None) -> dict[str, str]:
    """The `GET /audit` parameters from the filter fields (empty ones left out)."""
    q = {"from": parse_day(since), "to": parse_day(until), "actor": actor.strip() or None,
         "action": action.strip() or None, "cursor": cursor, "limit": "100"}
    return {k: v for k, v in q.items() if v}


def audit_rows(data: dict[str, Any], lang: str) -> list[tuple[str, tuple[str, ...]]]:
    rows = []
    for r in data.get("items", []):
        at = r.get("at") or ""
        when = f"{fmt.day(at, lang)} {at[11:19]}" if "T" in at else at
        rows.append((str(r["id"]), (when, r.get("username") or r.get("user_id") or "—", r.get("device_name") or "—",
                                    r.get("action", ""), r.get("target") or "", r.get("detail") or "")))
    return rows


# -- view -----------------------------------------------------------------------------------------
class View(Tab):
    name = "audit"
    title_key = "tab.audit"
    admin_only = True

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.lang = ctx.extra.get("lang", "pt_BR")
        self.next_cursor: str | None = None
        filters = ttk.Frame(self)
        filters.pack(fill="x", pady=(0, 6))
        self.fields: dict[str, ttk.Entry] = {}
        for i, (key, width) in enumerate((("from", 12), ("to", 12), ("actor", 16), ("action", 20))):
            ttk.Label(filters, text=t(f"audit.{key}")).grid(row=0, column=i * 2, sticky="w", padx=(0, 4))
            e = ttk.Entry(filters, width=width)
            e.grid(row=0, column=i * 2 + 1, sticky="w", padx=(0, 12))
            e.bind("<Return>", lambda _e: self.refresh())
            self.fields[key] = e
        self.filter_button = ttk.Button(filters, text=t("audit.filter"), style="Accent.TButton", command=self.refresh)
        self.filter_button.grid(row=0, column=8)
        ttk.Label(self, text=t("audit.help"), foreground="#555").pack(anchor="w")
        cols = {"at": 150, "who": 120, "device": 170, "action": 190, "target": 220, "detail": 260}
        self.tree = ttk.Treeview(self, columns=tuple(cols), show="headings", height=18)
        for col, width in cols.items():
            self.tree.heading(col, text=t(f"audit.col_{col}"))
            self.tree.column(col, width=width, anchor="w")
        self.tree.pack(fill="both", expand=True, pady=4)
        bottom = ttk.Frame(self)
        bottom.pack(fill="x")
        self.more_button = ttk.Button(bottom, text=t("audit.more"), command=self.more)
        self.more_button.pack(side="left")
        self.count = ttk.Label(bottom, text="")
        self.count.pack(side="left", padx=10)
        self.message = ttk.Label(self, text="", foreground="#b3261e")
        self.message.pack(anchor="w")

    def _query(self, cursor: str | None = None) -> dict[str, str] | None:
        try:
            return audit_query(*(self.fields[k].get() for k in ("from", "to", "actor", "action")), cursor=cursor)
        except ValueError as e:
            self.message.configure(text=self.ctx.t("audit.bad_day", value=e.args[0]))
            return None

    def refresh(self) -> None:
        q = self._query()
        if q is not None:
            self.message.configure(text="")
            self.ctx.bridge.call(lambda: self.ctx.client.get("/audit", **q), lambda d: self._render(d, False),
                                 self._failed)

    def more(self) -> None:
        if not self.next_cursor:
            return
        q = self._query(self.next_cursor)
        if q is not None:
            self.ctx.bridge.call(lambda: self.ctx.client.get("/audit", **q), lambda d: self._render(d, True),
                                 self._failed)

    def _render(self, data: dict[str, Any], append: bool) -> None:
        if not self.winfo_exists():
            return
        if not append:
            self.tree.delete(*self.tree.get_children())
        for iid, cells in audit_rows(data, self.lang):
            if not self.tree.exists(iid):
                self.tree.insert("", "end", iid=iid, values=cells)
        self.next_cursor = data.get("next_cursor")
        self.more_button.state(["!disabled"] if self.next_cursor else ["disabled"])
        self.count.configure(text=self.ctx.t("audit.count", n=len(self.tree.get_children())))

    def _failed(self, e: BaseException) -> None:
        if self.winfo_exists():
            self.message.configure(text=self.ctx.t("common.error",
                                                   message=e.message if isinstance(e, ApiError) else str(e)))

    def open_item(self, **kw) -> None:
        for key in ("actor", "action"):
            if kw.get(key):
                self.fields[key].delete(0, "end")
                self.fields[key].insert(0, kw[key])
        self.refresh()
