"""Contacts & pipeline tab, the view: a searchable, filterable table and a board by stage, the
contact's card (stage, value, tags, notes, owner), batch import with a dry-run preview, the
CSV export, and one contact's export or erasure (LGPD). Rows come from ``contacts_model``; every
API call goes through the bridge, never on the Tk thread."""

from __future__ import annotations

import csv
import json
import os
import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk
from typing import Any

from desktop.pipeline import STAGES
from desktop.ui import contacts_model as model
from desktop.ui.api_client import ApiError
from desktop.ui.tab_state import Busy, error_text
from desktop.ui.tabs import Tab, TabContext

AT_RISK_BG = "#fde2e1"
DETAIL_WIDTH = 390
VALUE_ROW = ":value"  # the board's second line of a card
JOB_POLL_SECONDS = 0.3


class View(Tab):
    name = "contacts"
    title_key = "contacts.title"

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        self.t = ctx.t
        self.lang = ctx.t.lang
        self.contacts: dict[str, dict[str, Any]] = {}
        self.users: dict[str, str] = {}
        self.health: dict[str, model.Health] = {}
        self.rows: list[model.ContactRow] = []
        self.shown: list[model.ContactRow] = []
        self.current: dict[str, Any] | None = None
        self.etag: str | None = None
        self.loaded = False
        self._want: str | None = None  # a contact asked for by open_item before the list arrived
        self.import_dialog: ImportDialog | None = None
        self.erase_dialog: EraseDialog | None = None
        self._build()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        t = self.t
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        ttk.Label(bar, text=t("contacts.search")).pack(side="left")
        self.query = tk.StringVar()
        self.query.trace_add("write", lambda *_: self._render())
        self.search_entry = ttk.Entry(bar, textvariable=self.query, width=24)
        self.search_entry.pack(side="left", padx=(4, 12))
        self.filter_boxes: dict[str, ttk.Combobox] = {}
        self._filter_values: dict[str, list[str]] = {}
        filters = ttk.Frame(self)
        filters.pack(fill="x", pady=(6, 0))
        for key in ("stage", "tag", "owner", "health"):
            ttk.Label(filters, text=t(f"contacts.filter.{key}")).pack(side="left")
            box = ttk.Combobox(filters, state="readonly", width=16)
            box.pack(side="left", padx=(4, 10))
            box.bind("<<ComboboxSelected>>", lambda _e: self._render())
            self.filter_boxes[key] = box
        self._set_choices("stage", [model.ALL, *STAGES], [t("contacts.filter.any")]
                          + [model.stage_text(s, t) for s in STAGES])
        self._set_choices("health", [model.ALL, *model.HEALTH_FILTERS], [t("contacts.filter.any")]
                          + [t(f"contacts.health.{h}") for h in model.HEALTH_FILTERS])
        self._set_choices("tag", [model.ALL], [t("contacts.filter.any")])
        self._set_choices("owner", [model.ALL], [t("contacts.filter.any")])
        self.refresh_button = ttk.Button(bar, text=t("contacts.refresh"), command=self.refresh)
        self.refresh_button.pack(side="right")
        self.semicolon = tk.BooleanVar(value=self.lang == "pt_BR")  # pt-BR Excel splits cells on ;
        ttk.Checkbutton(bar, text=t("contacts.export_csv.semicolon"), variable=self.semicolon).pack(side="right")
        self.export_button = ttk.Button(bar, text=t("contacts.export_csv"), command=self.export_csv)
        self.export_button.pack(side="right", padx=4)
        self.import_button = ttk.Button(bar, text=t("contacts.import"), command=self.open_import)
        self.import_button.pack(side="right", padx=4)

        self.busy = Busy(self)
        self.busy.frame.pack(fill="x", pady=(6, 4))

        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        # The card keeps its width (its form would be crushed); the table and board take the rest.
        self.detail = ttk.Frame(body, padding=(12, 0, 0, 0), width=DETAIL_WIDTH)
        self.detail.pack(side="right", fill="y")
        self.detail.pack_propagate(False)
        self.views = ttk.Notebook(body)
        self.views.pack(side="left", fill="both", expand=True)

        table_page = ttk.Frame(self.views)
        self.views.add(table_page, text=t("contacts.view.table"))
        self.count_label = ttk.Label(table_page, text="")
        self.count_label.pack(anchor="w")
        holder = ttk.Frame(table_page)
        holder.pack(fill="both", expand=True)
        self.table = ttk.Treeview(holder, columns=model.COLUMNS, show="headings", selectmode="browse")
        widths = {"name": 150, "phone": 135, "stage": 95, "value": 105, "tags": 110, "owner": 85, "health": 110,
                  "external_id": 90}
        for col in model.COLUMNS:
            self.table.heading(col, text=t(f"contacts.col.{col}"), command=lambda c=col: self._sort_by(c))
            self.table.column(col, width=widths[col], anchor="e" if col in ("value",) else "w", stretch=col == "name")
        self.table.tag_configure("at_risk", background=AT_RISK_BG)
        scroll = ttk.Scrollbar(holder, orient="vertical", command=self.table.yview)
        self.table.configure(yscrollcommand=scroll.set)
        self.table.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")
        self.table.bind("<<TreeviewSelect>>", self._table_selected)
        self.empty_label = ttk.Label(table_page, text="", foreground="#555")
        self.empty_label.pack(anchor="w", pady=4)
        self._sort: tuple[str, bool] | None = None

        self.board_page = ttk.Frame(self.views)
        self.views.add(self.board_page, text=t("contacts.view.board"))
        self.board_columns: dict[str, tuple[ttk.LabelFrame, ttk.Label, ttk.Treeview]] = {}
        for i, stage in enumerate(STAGES):
            self.board_page.columnconfigure(i, weight=1, uniform="stage")
            frame = ttk.LabelFrame(self.board_page, text=model.stage_text(stage, t), padding=2)
            frame.grid(row=0, column=i, sticky="nsew", padx=2, pady=3)
            total = ttk.Label(frame, text="", font=("TkDefaultFont", 11, "bold"))
            total.pack(anchor="w")
            # No tree column and no headings: a card is two lines, the name and under it the value.
            tree = ttk.Treeview(frame, columns=("card",), show="", selectmode="browse", height=18)
            tree.column("card", width=150, minwidth=60, stretch=True)
            tree.tag_configure("at_risk", background=AT_RISK_BG)
            tree.tag_configure("value", foreground="#555")
            tree.pack(fill="both", expand=True)
            tree.bind("<<TreeviewSelect>>", lambda _e, tr=tree: self._board_selected(tr))
            self.board_columns[stage] = (frame, total, tree)
        self.board_page.rowconfigure(0, weight=1)
        self._build_detail()

    def _build_detail(self) -> None:
        t = self.t
        d = self.detail
        self.detail_title = ttk.Label(d, text=t("contacts.detail.none"), font=("TkDefaultFont", 13, "bold"),
                                      wraplength=DETAIL_WIDTH - 20, justify="left")
        self.detail_title.pack(anchor="w")
        self.detail_sub = ttk.Label(d, text="", foreground="#555", wraplength=DETAIL_WIDTH - 20, justify="left")
        self.detail_sub.pack(anchor="w")
        self.detail_health = ttk.Label(d, text="", wraplength=DETAIL_WIDTH - 20, justify="left")
        self.detail_health.pack(anchor="w", pady=(2, 6))
        self.form = ttk.Frame(d)
        f = self.form
        f.columnconfigure(1, weight=1)
        ttk.Label(f, text=t("contacts.edit.stage")).grid(row=0, column=0, sticky="w", pady=2)
        self.stage_box = ttk.Combobox(f, state="readonly", values=[model.stage_text(s, t) for s in STAGES])
        self.stage_box.grid(row=0, column=1, sticky="ew", pady=2)
        ttk.Label(f, text=t("contacts.edit.value")).grid(row=1, column=0, sticky="w", pady=2)
        self.value_var = tk.StringVar()
        self.value_entry = ttk.Entry(f, textvariable=self.value_var)
        self.value_entry.grid(row=1, column=1, sticky="ew", pady=2)
        ttk.Label(f, text=t("contacts.edit.tags")).grid(row=2, column=0, sticky="w", pady=2)
        self.tags_var = tk.StringVar()
        self.tags_entry = ttk.Entry(f, textvariable=self.tags_var)
        self.tags_entry.grid(row=2, column=1, sticky="ew", pady=2)
        ttk.Label(f, text=t("contacts.edit.owner")).grid(row=3, column=0, sticky="w", pady=2)
        self.owner_box = ttk.Combobox(f, state="readonly")
        self.owner_box.grid(row=3, column=1, sticky="ew", pady=2)
        ttk.Label(f, text=t("contacts.edit.notes")).grid(row=4, column=0, sticky="nw", pady=2)
        self.notes = tk.Text(f, height=7, width=30, wrap="word", relief="solid", borderwidth=1,
                             font="TkDefaultFont")
        self.notes.grid(row=4, column=1, sticky="ew", pady=2)
        buttons = ttk.Frame(f)
        buttons.grid(row=5, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        self.save_button = ttk.Button(buttons, text=t("contacts.edit.save"), command=self.save)
        self.save_button.pack(side="left")
        lgpd = ttk.Frame(f)
        lgpd.grid(row=6, column=0, columnspan=2, sticky="ew", pady=(16, 0))
        self.export_one_button = ttk.Button(lgpd, text=t("contacts.export_one"), command=self.export_contact)
        self.export_one_button.pack(side="left")
        self.erase_button = ttk.Button(lgpd, text=t("contacts.erase"), command=self.ask_erase)
        self.erase_button.pack(side="left", padx=6)
        self.detail_message = ttk.Label(d, text="", wraplength=DETAIL_WIDTH - 20, justify="left")
        self._owner_ids: list[str | None] = [None]

    def _set_choices(self, key: str, values: list[str], labels: list[str]) -> None:
        box = self.filter_boxes[key]
        current = self.filter_value(key)
        self._filter_values[key] = values
        box.configure(values=labels)
        box.current(values.index(current) if current in values else 0)

    def filter_value(self, key: str) -> str:
        values = self._filter_values.get(key) or [model.ALL]
        i = self.filter_boxes[key].current()
        return values[i] if 0 <= i < len(values) else model.ALL

    def set_filter(self, key: str, value: str) -> None:
        """Pick a filter's choice by its value (a stage key, a tag, a user id, a health key)."""
        self.filter_boxes[key].current(self._filter_values[key].index(value))
        self._render()

    # -- loading ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        client = self.ctx.client

        def load() -> tuple[list[dict], dict | None, dict[str, str]]:
            contacts = client.get("/contacts")["items"]
            try:
                metrics = client.get("/metrics")
            except ApiError as e:
                if e.status == 0:
                    raise
                metrics = None  # the table still works without health scores
            users: dict[str, str] = {}
            if client.is_admin:
                users = {u["id"]: u["username"] for u in client.get("/users")["items"]}
            elif client.user:
                users = {client.user["id"]: client.user["username"]}
            return contacts, metrics, users

        self.busy.start()
        self.busy.say(self.t("state.loading"))
        self.ctx.bridge.call(load, self._loaded, self._load_failed)

    def _loaded(self, result: tuple[list[dict], dict | None, dict[str, str]]) -> None:
        self.busy.stop()
        contacts, metrics, users = result
        self.busy.say("")
        self.contacts = {c["id"]: c for c in contacts}
        self.users = users
        self.health = model.health_index(metrics, self.t)
        self.rows = model.contact_rows(contacts, self.health, users, self.t, self.lang)
        tags = model.all_tags(self.rows)
        self._set_choices("tag", [model.ALL, *tags], [self.t("contacts.filter.any"), *tags])
        owner_ids = sorted(users, key=lambda u: users[u].casefold())
        names = [users[u] for u in owner_ids]
        self._set_choices("owner", [model.ALL, "none", *owner_ids],
                          [self.t("contacts.filter.any"), self.t("contacts.owner.none"), *names])
        self._owner_ids = [None, *owner_ids]
        self.owner_box.configure(values=[self.t("contacts.owner.none")] + [users[u] for u in owner_ids])
        self.loaded = True
        admin = self.ctx.client.is_admin  # import and exports are admin routes: not offered to attendants
        for b in (self.import_button, self.export_button):
            b.configure(state="normal" if admin else "disabled")
        self._render()
        want, self._want = self._want, None
        if want:
            self.open_item(contact_id=want)
        elif self.current and self.current["id"] not in self.contacts:
            self._show_contact(None)

    def _load_failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.busy.say(error_text(exc, self.t), error=True)

    # -- rendering -------------------------------------------------------------------------------
    def filters(self) -> model.Filters:
        return model.Filters(self.query.get(), self.filter_value("stage"), self.filter_value("tag"),
                             self.filter_value("owner"), self.filter_value("health"))

    def _sort_by(self, col: str) -> None:
        asc = not (self._sort and self._sort[0] == col and self._sort[1])
        self._sort = (col, asc)
        self._render()

    def _render(self) -> None:
        if not hasattr(self, "table"):
            return
        shown = model.apply_filters(self.rows, self.filters())
        if self._sort:
            col, asc = self._sort
            key = {
                "value": lambda r: r.value or 0,
                "health": lambda r: r.health.score if r.health else 101,
                "stage": lambda r: STAGES.index(r.stage) if r.stage in STAGES else 99,
            }.get(col, lambda r, i=model.COLUMNS.index(col): model.fold(r.cells()[i]))
            shown.sort(key=key, reverse=not asc)
        self.shown = shown
        self.table.delete(*self.table.get_children())
        for r in shown:
            tags = ("at_risk",) if r.health and r.health.at_risk else ()
            self.table.insert("", "end", iid=r.id, values=r.cells(), tags=tags)
        self.count_label.configure(text=self.t("contacts.count", shown=len(shown), total=len(self.rows)))
        if not self.rows:
            self.empty_label.configure(text=self.t("contacts.empty") if self.loaded else "")
        else:
            self.empty_label.configure(text="" if shown else self.t("contacts.empty_filtered"))
        for col in model.board(shown, self.t, self.lang):
            frame, total, tree = self.board_columns[col.stage]
            frame.configure(text=col.title)
            total.configure(text=col.total_text)
            tree.delete(*tree.get_children())
            for r in col.rows:
                tags = ("at_risk",) if r.health and r.health.at_risk else ()
                tree.insert("", "end", iid=r.id, values=(r.name,), tags=tags)
                tree.insert("", "end", iid=f"{r.id}{VALUE_ROW}", values=(f"   {r.value_text}",), tags=(*tags, "value"))
        if self.current and self.table.exists(self.current["id"]):
            self.table.selection_set(self.current["id"])

    def _table_selected(self, _event=None) -> None:
        sel = self.table.selection()
        if sel and (not self.current or self.current["id"] != sel[0]):
            self.open_item(contact_id=sel[0])

    def _board_selected(self, tree: ttk.Treeview) -> None:
        sel = tree.selection()
        cid = sel[0].removesuffix(VALUE_ROW) if sel else None
        if cid and (not self.current or self.current["id"] != cid):
            self.open_item(contact_id=cid)

    # -- one contact -----------------------------------------------------------------------------
    def open_item(self, **kw) -> None:
        contact_id = kw.get("contact_id")
        if not contact_id:
            return
        if not self.loaded:
            self._want = contact_id
            if not self.busy.active:
                self.refresh()
            return
        client = self.ctx.client
        self.busy.start()
        self.ctx.bridge.call(lambda: client.request_with_headers("GET", f"/contacts/{contact_id}"),
                             self._contact_loaded, self._contact_failed)

    def _contact_loaded(self, result: tuple[dict, dict[str, str]], message: str = "", error: bool = True) -> None:
        self.busy.stop()
        contact, headers = result
        self.etag = headers.get("etag")
        self.contacts[contact["id"]] = contact
        self._replace_row(contact)
        self._show_contact(contact)
        if message:
            self._say_detail(message, error=error)

    def _contact_failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self._say_detail(error_text(exc, self.t), error=True)

    def _replace_row(self, contact: dict[str, Any]) -> None:
        new = model.contact_rows([contact], self.health, self.users, self.t, self.lang)[0]
        self.rows = [new if r.id == new.id else r for r in self.rows]
        if all(r.id != new.id for r in self.rows):
            self.rows.insert(0, new)
        self._render()

    def _show_contact(self, contact: dict[str, Any] | None) -> None:
        self.current = contact
        self.detail_message.pack_forget()
        if contact is None:
            self.detail_title.configure(text=self.t("contacts.detail.none"))
            self.detail_sub.configure(text="")
            self.detail_health.configure(text="")
            self.form.pack_forget()
            return
        t = self.t
        self.detail_title.configure(text=contact.get("name") or contact.get("phone") or t("contacts.unnamed"))
        sub = [contact.get("phone") or "", contact.get("company") or ""]
        if contact.get("external_id"):
            sub.append(f"#{contact['external_id']}")
        self.detail_sub.configure(text=" · ".join(s for s in sub if s))
        h = self.health.get(contact["id"])
        if h:
            self.detail_health.configure(
                text=t("contacts.health.reasons", score=h.score, reasons="; ".join(h.reasons) or "—"),
                foreground="#b3261e" if h.at_risk else "")
        else:
            self.detail_health.configure(text="")
        self.stage_box.current(STAGES.index(contact.get("stage") or STAGES[0]))
        self.value_var.set(model.value_for_entry(contact.get("value"), self.lang))
        self.tags_var.set(", ".join(contact.get("tags") or []))
        owner = contact.get("owner")
        if owner and owner not in self._owner_ids:
            self._owner_ids.append(owner)
            self.owner_box.configure(values=[*self.owner_box.cget("values"), self.users.get(owner, owner)])
        self.owner_box.current(self._owner_ids.index(owner) if owner in self._owner_ids else 0)
        admin = self.ctx.client.is_admin
        self.owner_box.configure(state="readonly" if admin else "disabled")
        for b in (self.export_one_button, self.erase_button):
            b.configure(state="normal" if admin else "disabled")
        self.notes.delete("1.0", "end")
        self.notes.insert("1.0", contact.get("notes") or "")
        self.form.pack(fill="x")
        if self.table.exists(contact["id"]):
            self.table.selection_set(contact["id"])
            self.table.see(contact["id"])

    def _say_detail(self, text: str, *, error: bool = False) -> None:
        self.detail_message.configure(text=text, foreground="#b3261e" if error else "#1b6e3a")
        self.detail_message.pack(anchor="w", pady=(10, 0))

    def save(self) -> None:
        contact = self.current
        if not contact:
            return
        i = self.stage_box.current()
        try:
            body = model.patch_body(
                contact,
                stage=STAGES[i] if i >= 0 else contact.get("stage", STAGES[0]),
                value_text=self.value_var.get(),
                tags_text=self.tags_var.get(),
                notes=self.notes.get("1.0", "end"),
                owner=self._owner_ids[self.owner_box.current()] if self.owner_box.current() >= 0 else None,
                lang=self.lang,
                can_set_owner=self.ctx.client.is_admin,
            )
        except ValueError:
            self._say_detail(self.t("contacts.edit.bad_value"), error=True)
            return
        if not body:
            self._say_detail(self.t("contacts.edit.nothing"))
            return
        client, cid = self.ctx.client, contact["id"]
        headers = {"If-Match": self.etag} if self.etag else None
        self.busy.start()
        self.save_button.configure(state="disabled")
        self.ctx.bridge.call(lambda: client.request_with_headers("PATCH", f"/contacts/{cid}", body, headers=headers),
                             self._saved, lambda e: self._save_failed(cid, e))

    def _saved(self, result: tuple[dict, dict[str, str]]) -> None:
        self.save_button.configure(state="normal")
        contact, headers = result
        had_etag = self.etag is not None
        saved = self.t("contacts.edit.saved")
        self._contact_loaded((contact, headers), saved, error=False)
        self.ctx.status(saved)
        if had_etag and not headers.get("etag"):
            # The PATCH did not say the new version: read it, or the next save sends a stale If-Match.
            client, cid = self.ctx.client, contact["id"]
            self.busy.start()
            self.ctx.bridge.call(lambda: client.request_with_headers("GET", f"/contacts/{cid}"),
                                 lambda r: self._contact_loaded(r, saved, error=False), self._contact_failed)

    def _save_failed(self, contact_id: str, exc: BaseException) -> None:
        self.busy.stop()
        self.save_button.configure(state="normal")
        if isinstance(exc, ApiError) and exc.status == 412:
            # Someone else saved first: show theirs (never overwrite it) and say so.
            client = self.ctx.client
            message = self.t("contacts.edit.conflict")
            self.busy.start()
            self.ctx.bridge.call(lambda: client.request_with_headers("GET", f"/contacts/{contact_id}"),
                                 lambda r: self._contact_loaded(r, message), self._contact_failed)
            return
        self._say_detail(error_text(exc, self.t), error=True)

    # -- exports -----------------------------------------------------------------------------------
    def export_csv(self, path: str | None = None) -> None:
        path = path or filedialog.asksaveasfilename(
            parent=self, defaultextension=".csv", initialfile="conversa-contatos.csv",
            filetypes=[("CSV", "*.csv")], title=self.t("contacts.export_csv"))
        if not path:
            return
        client = self.ctx.client
        sep = ";" if self.semicolon.get() else ","

        def write() -> tuple[str, int]:
            part = Path(f"{path}.part")
            with open(part, "wb") as out:
                for chunk in client.stream("/export/contacts.csv", sep=sep):
                    out.write(chunk)
            os.replace(part, path)
            with open(path, encoding="utf-8-sig", newline="") as f:
                rows = sum(1 for _ in csv.reader(f, delimiter=sep)) - 1
            return path, max(rows, 0)

        self.busy.start()
        self.ctx.bridge.call(write, self._exported, self._action_failed)

    def _exported(self, result: tuple[str, int]) -> None:
        self.busy.stop()
        path, rows = result
        self.busy.say(self.t("contacts.export_csv.done", path=path, rows=rows))

    def _action_failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.busy.say(error_text(exc, self.t), error=True)

    def export_contact(self, path: str | None = None) -> None:
        contact = self.current
        if not contact:
            return
        path = path or filedialog.asksaveasfilename(
            parent=self, defaultextension=".json", initialfile=model.export_name(contact),
            filetypes=[("JSON", "*.json")], title=self.t("contacts.export_one"))
        if not path:
            return
        client, cid = self.ctx.client, contact["id"]

        def write() -> str:
            data = client.get(f"/contacts/{cid}/export")
            part = Path(f"{path}.part")
            part.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            os.replace(part, path)
            return path

        self.busy.start()
        self.ctx.bridge.call(write, self._contact_exported, self._contact_failed)

    def _contact_exported(self, path: str) -> None:
        self.busy.stop()
        self._say_detail(self.t("contacts.export_one.done", path=path))

    # -- erase (LGPD) --------------------------------------------------------------------------------
    def ask_erase(self) -> None:
        if not self.current:
            return
        self.erase_dialog = EraseDialog(self, self.current, self._erase)

    def _erase(self, contact_id: str) -> None:
        client = self.ctx.client
        self.busy.start()
        self.ctx.bridge.call(lambda: client.delete(f"/contacts/{contact_id}"),
                             lambda _r: self._erased(contact_id), self._contact_failed)

    def _erased(self, contact_id: str) -> None:
        self.busy.stop()
        self.contacts.pop(contact_id, None)
        self.rows = [r for r in self.rows if r.id != contact_id]
        self._show_contact(None)
        self._render()
        self.busy.say(self.t("contacts.erase.done"))
        self.ctx.status(self.t("contacts.erase.done"))

    # -- import ------------------------------------------------------------------------------------------
    def open_import(self) -> None:
        if self.import_dialog is not None and self.import_dialog.winfo_exists():
            self.import_dialog.lift()
            return
        self.import_dialog = ImportDialog(self, self.ctx, self.refresh)


class EraseDialog(tk.Toplevel):
    """Names what an erasure destroys; the button works only once the admin ticks that they
    understand it cannot be undone."""

    def __init__(self, master: View, contact: dict[str, Any], on_confirm) -> None:
        super().__init__(master)
        t = master.t
        self.title(t("contacts.erase.title"))
        self.transient(master.winfo_toplevel())
        self.contact = contact
        self.on_confirm = on_confirm
        body = ttk.Frame(self, padding=16)
        body.pack(fill="both", expand=True)
        ttk.Label(body, text=t("contacts.erase.title"), font=("TkDefaultFont", 13, "bold")).pack(anchor="w")
        self.text = model.erase_consequences(contact, None, t)
        ttk.Label(body, text=self.text, wraplength=480, justify="left").pack(anchor="w", pady=(8, 12))
        self.understood = tk.BooleanVar(value=False)
        ttk.Checkbutton(body, text=t("contacts.erase.confirm"), variable=self.understood,
                        command=self._toggle).pack(anchor="w")
        row = ttk.Frame(body)
        row.pack(fill="x", pady=(12, 0))
        self.cancel_button = ttk.Button(row, text=t("contacts.erase.cancel"), command=self.destroy)
        self.cancel_button.pack(side="right")
        self.erase_button = ttk.Button(row, text=t("contacts.erase.do"), command=self.confirm, state="disabled")
        self.erase_button.pack(side="right", padx=6)

    def _toggle(self) -> None:
        self.erase_button.configure(state="normal" if self.understood.get() else "disabled")

    def confirm(self) -> None:
        if not self.understood.get():
            return
        cid = self.contact["id"]
        self.destroy()
        self.on_confirm(cid)


class ImportDialog(tk.Toplevel):
    """Paste customers or pick a CSV → a dry run (the server's job) → the preview grouped into
    created / updated / unchanged / rejected → confirm runs the same input for real."""

    def __init__(self, master: View, ctx: TabContext, on_imported) -> None:
        super().__init__(master)
        self.ctx = ctx
        self.t = t = ctx.t
        self.lang = t.lang
        self.on_imported = on_imported
        self.title(t("contacts.import.title"))
        self.geometry("900x640")
        self.csv_text = ""
        self.job: dict[str, Any] | None = None
        self.previewed_body: dict[str, Any] | None = None
        self.preview_names: dict[int, str] = {}
        self.groups: dict[str, list[model.PreviewRow]] = {}
        self.finished: dict[str, Any] | None = None  # the last finished job (preview or import)
        self.running = False

        body = ttk.Frame(self, padding=12)
        body.pack(fill="both", expand=True)
        ttk.Label(body, text=t("contacts.import.paste"), wraplength=860, justify="left").pack(anchor="w")
        self.text = tk.Text(body, height=9, wrap="word", relief="solid", borderwidth=1)
        self.text.pack(fill="x", pady=(4, 6))
        row = ttk.Frame(body)
        row.pack(fill="x")
        ttk.Button(row, text=t("contacts.import.csv"), command=self.pick_csv).pack(side="left")
        self.csv_label = ttk.Label(row, text="")
        self.csv_label.pack(side="left", padx=8)
        self.csv_clear = ttk.Button(row, text=t("contacts.import.csv_clear"), command=lambda: self.set_csv("", ""))
        self.use_model = tk.BooleanVar(value=True)
        ttk.Checkbutton(body, text=t("contacts.import.use_model"), variable=self.use_model).pack(anchor="w", pady=4)
        actions = ttk.Frame(body)
        actions.pack(fill="x", pady=(4, 6))
        self.preview_button = ttk.Button(actions, text=t("contacts.import.preview"), command=self.preview)
        self.preview_button.pack(side="left")
        self.confirm_button = ttk.Button(actions, text=t("contacts.import.confirm"), command=self.confirm,
                                         state="disabled")
        self.confirm_button.pack(side="left", padx=6)
        self.cancel_button = ttk.Button(actions, text=t("contacts.import.cancel_job"), command=self.cancel_job,
                                        state="disabled")
        self.cancel_button.pack(side="left")
        ttk.Button(actions, text=t("contacts.import.close"), command=self.destroy).pack(side="right")
        self.progress = ttk.Progressbar(body, mode="determinate")
        self.progress.pack(fill="x")
        self.message = ttk.Label(body, text="", wraplength=860, justify="left")
        self.message.pack(anchor="w", pady=4)
        cols = ("row", "detail", "warnings")
        holder = ttk.Frame(body)
        holder.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(holder, columns=cols, show="tree headings")
        self.tree.heading("#0", text=t("contacts.import.col.name"))
        self.tree.column("#0", width=260)
        self.tree.heading("row", text=t("contacts.import.col.row"))
        self.tree.column("row", width=60, anchor="e", stretch=False)
        self.tree.heading("detail", text=t("contacts.import.col.detail"))
        self.tree.column("detail", width=430)
        self.tree.heading("warnings", text=t("contacts.import.col.warnings"))
        self.tree.column("warnings", width=110)
        for group, colour in (("created", "#1b6e3a"), ("updated", "#0b57d0"), ("unchanged", "#555"),
                              ("rejected", "#b3261e")):
            self.tree.tag_configure(group, foreground=colour)
        scroll = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")
        self.text.bind("<<Modified>>", self._input_changed)

    def _input_changed(self, _event=None) -> None:
        self.text.edit_modified(False)
        if not self.running and self.previewed_body is not None and self._body(dry_run=True) != self.previewed_body:
            self.confirm_button.configure(state="disabled")  # the preview no longer shows this input

    def pick_csv(self) -> None:
        path = filedialog.askopenfilename(parent=self, filetypes=[("CSV", "*.csv"), ("*", "*")],
                                          title=self.t("contacts.import.csv"))
        if path:
            self.set_csv(Path(path).name, model.decode_csv(Path(path).read_bytes()))

    def set_csv(self, name: str, text: str) -> None:
        self.csv_text = text
        if text:
            lines = max(len([ln for ln in text.splitlines() if ln.strip()]) - 1, 0)
            self.csv_label.configure(text=self.t("contacts.import.csv_chosen", name=name, rows=lines))
            self.csv_clear.pack(side="left")
        else:
            self.csv_label.configure(text="")
            self.csv_clear.pack_forget()
        self._input_changed()

    def _body(self, *, dry_run: bool) -> dict[str, Any] | None:
        try:
            return model.import_body(text=self.text.get("1.0", "end"), csv_text=self.csv_text, dry_run=dry_run,
                                     use_model=self.use_model.get())
        except ValueError:
            return None

    def preview(self) -> None:
        body = self._body(dry_run=True)
        if body is None:
            self._say(self.t("contacts.import.empty"), error=True)
            return
        self._run(body)

    def confirm(self) -> None:
        if self.previewed_body is None:
            return
        self._run({**self.previewed_body, "dry_run": False})

    def _run(self, body: dict[str, Any]) -> None:
        client, bridge = self.ctx.client, self.ctx.bridge
        self.running = True
        self.job = None
        for b in (self.preview_button, self.confirm_button):
            b.configure(state="disabled")
        self.cancel_button.configure(state="normal")
        self.progress.configure(value=0, maximum=1)
        self._say(self.t("state.loading"))

        def work() -> dict[str, Any]:
            job = client.post("/contacts/import", body)
            bridge.post(self._progress, job)
            while job["state"] in ("queued", "running"):
                time.sleep(JOB_POLL_SECONDS)
                job = client.get(f"/jobs/{job['id']}")
                bridge.post(self._progress, job)
            return job

        bridge.call(work, lambda job: self._finished(body, job), self._failed)

    def _alive(self) -> bool:
        try:
            return bool(self.winfo_exists())
        except tk.TclError:
            return False

    def _progress(self, job: dict[str, Any]) -> None:
        if not self._alive():
            return
        self.job = job
        total, done = job.get("total") or 1, job.get("done") or 0
        self.progress.configure(maximum=total, value=done)
        if job["state"] in ("queued", "running"):
            self._say(self.t("contacts.import.running", done=done, total=total))

    def _finished(self, body: dict[str, Any], job: dict[str, Any]) -> None:
        if not self._alive():
            return
        self.running = False
        self.finished = job
        self.cancel_button.configure(state="disabled")
        self.preview_button.configure(state="normal")
        if job["state"] == "cancelled":
            self._say(self.t("contacts.import.cancelled"))
            return
        if job["state"] != "done":
            self._say(self.t("contacts.import.failed", why=job.get("message") or job["state"]), error=True)
            return
        dry_run = body["dry_run"]
        self.groups = model.preview_groups(job, self.t, self.lang, None if dry_run else self.preview_names)
        if dry_run:
            self.previewed_body = body
            self.preview_names = {r.row: r.name for rows in self.groups.values() for r in rows}
            self.confirm_button.configure(state="normal")
        else:
            self.previewed_body = None
            self.on_imported()
        self._fill_tree(done=not dry_run)
        counts = model.preview_counts(job)
        self._say(self.t("contacts.import.preview_ready" if dry_run else "contacts.import.done", **counts))

    def _fill_tree(self, *, done: bool) -> None:
        self.tree.delete(*self.tree.get_children())
        for group in model.IMPORT_GROUPS:
            rows = self.groups.get(group) or []
            if not rows and group == "unchanged":
                continue
            parent = self.tree.insert("", "end", iid=f"group-{group}", text=model.group_title(group, len(rows), self.t,
                                      done=done), open=True, tags=(group,))
            for r in rows:
                self.tree.insert(parent, "end", text=r.name, values=(r.row, r.detail, r.warnings), tags=(group,))

    def _failed(self, exc: BaseException) -> None:
        if not self._alive():
            return
        self.running = False
        self.cancel_button.configure(state="disabled")
        self.preview_button.configure(state="normal")
        self._say(error_text(exc, self.t), error=True)

    def cancel_job(self) -> None:
        job = self.job
        if not job:
            return
        client = self.ctx.client
        self.ctx.bridge.call(lambda: client.delete(f"/jobs/{job['id']}"), None, self._failed)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.configure(text=text, foreground="#b3261e" if error else "")
