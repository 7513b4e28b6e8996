"""Team tab: attendants (add, role, reset password, disable), paired devices (last seen, revoke),
a pairing code shown large with its countdown, and the quick replies (shortcut, text with
{nome}, intents)."""

from __future__ import annotations

from tkinter import ttk
from typing import Any

from desktop.ui import format as fmt
from desktop.ui.api_client import ApiError
from desktop.ui.pairing_view import PairingView
from desktop.ui.tabs import Tab, TabContext

# The API's intents (API.md, Insight): what a quick reply may be suggested for.
INTENTS = ("purchase_pricing", "support_technical", "complaint", "scheduling", "cancellation", "order_status",
           "greeting_smalltalk", "other")


# -- model ----------------------------------------------------------------------------------------
def _when(value: str | None, lang: str) -> str:
    if not value:
        return "—"
    return f"{fmt.day(value, lang)} {value[11:16]}" if "T" in value else fmt.day(value, lang)


def user_rows(data: dict[str, Any], t) -> list[tuple[str, tuple[str, ...]]]:
    return [(u["id"], (u["username"], t(f"team.role_{u['role']}"),
                       t("team.disabled") if u.get("disabled") else t("team.active")))
            for u in data.get("items", [])]


def device_rows(data: dict[str, Any], t, lang: str) -> list[tuple[str, tuple[str, ...]]]:
    rows = []
    for d in data.get("items", []):
        state = t("team.device_active") if d.get("active") else t("team.device_revoked")
        rows.append((d["id"], (d.get("username") or d.get("user_id", ""), d.get("name", ""),
                               _when(d.get("paired_at"), lang), _when(d.get("last_seen"), lang), state)))
    return rows


def parse_intents(text: str) -> list[str]:
    """"complaint, order_status" → the list; ValueError names an unknown intent."""
    out = [i.strip() for i in text.replace(";", ",").split(",") if i.strip()]
    for i in out:
        if i not in INTENTS:
            raise ValueError(i)
    return out


def reply_rows(data: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(r["id"], (r["shortcut"], r["text"].replace("\n", " ")[:90], ", ".join(r.get("intents") or [])))
            for r in data.get("items", [])]


# -- view -----------------------------------------------------------------------------------------
def _tree(master, columns: dict[str, int], t, prefix: str) -> ttk.Treeview:
    tree = ttk.Treeview(master, columns=tuple(columns), show="headings", height=10, selectmode="browse")
    for col, width in columns.items():
        tree.heading(col, text=t(f"{prefix}.{col}"))
        tree.column(col, width=width, anchor="w")
    return tree


def _fill(tree: ttk.Treeview, rows: list[tuple[str, tuple[str, ...]]]) -> None:
    keep = tree.selection()
    tree.delete(*tree.get_children())
    for iid, cells in rows:
        tree.insert("", "end", iid=iid, values=cells)
    if keep and tree.exists(keep[0]):
        tree.selection_set(keep[0])


class View(Tab):
    name = "team"
    title_key = "tab.team"
    admin_only = True

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.lang = ctx.extra.get("lang", "pt_BR")
        self.sections = ttk.Notebook(self)
        self.sections.pack(fill="both", expand=True)
        self._users(t)
        self._devices(t)
        self._pairing(t)
        self._replies(t)
        self.message = ttk.Label(self, text="", wraplength=1000)
        self.message.pack(anchor="w", pady=(6, 0))

    def _say(self, text: str, error: bool = False) -> None:
        if self.winfo_exists():
            self.message.configure(text=text, foreground="#b3261e" if error else "")

    def _call(self, fn, then=None, ok_text: str = "") -> None:
        def done(result: Any) -> None:
            if ok_text:
                self._say(ok_text)
            if then:
                then(result)

        def failed(e: BaseException) -> None:
            self._say(self.ctx.t("common.error", message=e.message if isinstance(e, ApiError) else str(e)), True)

        self.ctx.bridge.call(fn, done, failed)

    # -- users ---------------------------------------------------------------------------------
    def _users(self, t) -> None:
        f = ttk.Frame(self.sections, padding=8)
        self.sections.add(f, text=t("team.users"))
        self.users = _tree(f, {"username": 240, "role": 140, "state": 120}, t, "team.col")
        self.users.grid(row=0, column=0, rowspan=12, sticky="nsew", padx=(0, 12))
        ttk.Label(f, text=t("team.add_user"), font=("TkDefaultFont", 11, "bold")).grid(row=0, column=1, sticky="w")
        self.new_name = ttk.Entry(f, width=24)
        self.new_password = ttk.Entry(f, width=24, show="•")
        self.new_role = ttk.Combobox(f, values=(t("team.role_attendant"), t("team.role_admin")), state="readonly",
                                     width=22)
        self.new_role.current(0)
        for row, (key, w) in enumerate((("team.username", self.new_name), ("team.password", self.new_password),
                                        ("team.role", self.new_role)), start=1):
            ttk.Label(f, text=t(key)).grid(row=row, column=1, sticky="w")
            w.grid(row=row, column=2, sticky="w", pady=2)
        self.add_user_button = ttk.Button(f, text=t("common.add"), command=self.add_user)
        self.add_user_button.grid(row=4, column=2, sticky="w", pady=(2, 12))
        ttk.Label(f, text=t("team.selected_user"), font=("TkDefaultFont", 11, "bold")).grid(row=5, column=1,
                                                                                          sticky="w")
        ttk.Button(f, text=t("team.toggle_role"), command=self.toggle_role).grid(row=6, column=1, columnspan=2,
                                                                                 sticky="w", pady=2)
        ttk.Button(f, text=t("team.toggle_disabled"), command=self.toggle_disabled).grid(row=7, column=1,
                                                                                         columnspan=2, sticky="w")
        ttk.Label(f, text=t("team.new_password")).grid(row=8, column=1, sticky="w", pady=(8, 0))
        self.reset_password = ttk.Entry(f, width=24, show="•")
        self.reset_password.grid(row=8, column=2, sticky="w", pady=(8, 0))
        ttk.Button(f, text=t("team.reset_password"), command=self.reset).grid(row=9, column=2, sticky="w", pady=2)
        f.columnconfigure(0, weight=1)
        f.rowconfigure(11, weight=1)
        self.user_data: dict[str, Any] = {}

    def _selected_user(self) -> dict[str, Any] | None:
        sel = self.users.selection()
        return next((u for u in self.user_data.get("items", []) if sel and u["id"] == sel[0]), None)

    def add_user(self) -> None:
        role = "admin" if self.new_role.current() == 1 else "attendant"
        body = {"username": self.new_name.get().strip(), "password": self.new_password.get(), "role": role}

        def done(_r: Any) -> None:
            self.new_name.delete(0, "end")
            self.new_password.delete(0, "end")
            self.refresh()

        self._call(lambda: self.ctx.client.post("/users", body), done, self.ctx.t("team.user_added"))

    def _patch_user(self, body: dict[str, Any], ok_key: str) -> None:
        u = self._selected_user()
        if u is None:
            self._say(self.ctx.t("team.pick_user"), True)
            return
        self._call(lambda: self.ctx.client.patch(f"/users/{u['id']}", body), lambda _r: self.refresh(),
                   self.ctx.t(ok_key, name=u["username"]))

    def toggle_role(self) -> None:
        u = self._selected_user()
        if u:
            self._patch_user({"role": "attendant" if u["role"] == "admin" else "admin"}, "team.role_changed")
        else:
            self._say(self.ctx.t("team.pick_user"), True)

    def toggle_disabled(self) -> None:
        u = self._selected_user()
        if u:
            self._patch_user({"disabled": not u.get("disabled")}, "team.state_changed")
        else:
            self._say(self.ctx.t("team.pick_user"), True)

    def reset(self) -> None:
        pw = self.reset_password.get()
        self.reset_password.delete(0, "end")
        self._patch_user({"password": pw}, "team.password_reset")

    # -- devices -------------------------------------------------------------------------------
    def _devices(self, t) -> None:
        f = ttk.Frame(self.sections, padding=8)
        self.sections.add(f, text=t("team.devices"))
        self.devices = _tree(f, {"user": 160, "name": 240, "paired": 150, "seen": 150, "state": 110}, t,
                             "team.dcol")
        self.devices.pack(fill="both", expand=True)
        ttk.Button(f, text=t("team.revoke"), command=self.revoke).pack(anchor="w", pady=6)

    def revoke(self) -> None:
        sel = self.devices.selection()
        if not sel:
            return
        did = sel[0]
        self._call(lambda: self.ctx.client.delete(f"/devices/{did}"), lambda _r: self.refresh(),
                   self.ctx.t("team.revoked"))

    # -- pairing -------------------------------------------------------------------------------
    def _pairing(self, t) -> None:
        f = ttk.Frame(self.sections, padding=16)
        self.sections.add(f, text=t("team.pairing"))
        ttk.Label(f, text=t("team.pairing_help"), wraplength=800).pack(anchor="w", pady=(0, 8))
        self.pairing = PairingView(f, self.ctx)
        self.pairing.pack(anchor="w", fill="x")

    # -- quick replies -------------------------------------------------------------------------
    def _replies(self, t) -> None:
        f = ttk.Frame(self.sections, padding=8)
        self.sections.add(f, text=t("team.replies"))
        self.replies = _tree(f, {"shortcut": 130, "text": 520, "intents": 240}, t, "team.rcol")
        self.replies.grid(row=0, column=0, columnspan=4, sticky="nsew")
        self.replies.bind("<<TreeviewSelect>>", lambda _e: self._reply_selected())
        ttk.Label(f, text=t("team.rcol.shortcut")).grid(row=1, column=0, sticky="w", pady=(8, 0))
        self.reply_shortcut = ttk.Entry(f, width=20)
        self.reply_shortcut.grid(row=1, column=1, sticky="w", pady=(8, 0))
        ttk.Label(f, text=t("team.rcol.intents")).grid(row=1, column=2, sticky="e", pady=(8, 0))
        self.reply_intents = ttk.Entry(f, width=40)
        self.reply_intents.grid(row=1, column=3, sticky="w", pady=(8, 0))
        ttk.Label(f, text=t("team.rcol.text")).grid(row=2, column=0, sticky="nw")
        self.reply_text = ttk.Entry(f, width=100)
        self.reply_text.grid(row=2, column=1, columnspan=3, sticky="ew", pady=4)
        ttk.Label(f, text=t("team.reply_help", intents=", ".join(INTENTS)), foreground="#555",
                  wraplength=900).grid(row=3, column=0, columnspan=4, sticky="w")
        row = ttk.Frame(f)
        row.grid(row=4, column=0, columnspan=4, sticky="w", pady=6)
        ttk.Button(row, text=t("common.add"), command=lambda: self.save_reply(new=True)).pack(side="left")
        ttk.Button(row, text=t("common.save"), command=self.save_reply).pack(side="left", padx=6)
        ttk.Button(row, text=t("common.delete"), command=self.delete_reply).pack(side="left")
        f.columnconfigure(3, weight=1)
        f.rowconfigure(0, weight=1)
        self.reply_data: dict[str, Any] = {}

    def _reply_selected(self) -> None:
        sel = self.replies.selection()
        r = next((r for r in self.reply_data.get("items", []) if sel and r["id"] == sel[0]), None)
        if r is None:
            return
        for entry, value in ((self.reply_shortcut, r["shortcut"]), (self.reply_text, r["text"]),
                             (self.reply_intents, ", ".join(r.get("intents") or []))):
            entry.delete(0, "end")
            entry.insert(0, value)

    def save_reply(self, new: bool = False) -> None:
        try:
            intents = parse_intents(self.reply_intents.get())
        except ValueError as e:
            self._say(self.ctx.t("team.bad_intent", intent=e.args[0]), True)
            return
        body = {"shortcut": self.reply_shortcut.get().strip(), "text": self.reply_text.get().strip(),
                "intents": intents}
        sel = self.replies.selection()
        if new or not sel:
            fn = lambda: self.ctx.client.post("/quick-replies", body)  # noqa: E731
        else:
            rid = sel[0]
            fn = lambda: self.ctx.client.patch(f"/quick-replies/{rid}", body)  # noqa: E731
        self._call(fn, lambda _r: self.refresh(), self.ctx.t("team.reply_saved"))

    def delete_reply(self) -> None:
        sel = self.replies.selection()
        if not sel:
            return
        rid = sel[0]
        self._call(lambda: self.ctx.client.delete(f"/quick-replies/{rid}"), lambda _r: self.refresh(),
                   self.ctx.t("team.reply_deleted"))

    # -- loading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        client = self.ctx.client

        def load() -> dict[str, Any]:
            return {"users": client.get("/users"), "devices": client.get("/devices"),
                    "replies": client.get("/quick-replies")}

        self._call(load, self._render)

    def _render(self, data: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        t = self.ctx.t
        self.user_data, self.reply_data = data["users"], data["replies"]
        _fill(self.users, user_rows(data["users"], t))
        _fill(self.devices, device_rows(data["devices"], t, self.lang))
        _fill(self.replies, reply_rows(data["replies"]))

    def open_item(self, **kw) -> None:
        uid = kw.get("user_id")
        if uid and self.users.exists(uid):
            self.sections.select(0)
            self.users.selection_set(uid)
            self.users.see(uid)
