"""Settings tab: every setting with its value, default, help text and whether it needs a
restart; a change goes through `PATCH /settings`, whose answer says what applies now."""

from __future__ import annotations

from tkinter import ttk
from typing import Any

from desktop.ui.api_client import ApiError
from desktop.ui.tabs import Tab, TabContext


# -- model ----------------------------------------------------------------------------------------
def _shown(value: Any) -> str:
    if value is None:
        return "—"
    return str(value) if value != "" else "(vazio)"


def setting_rows(data: dict[str, Any], t) -> list[tuple[str, tuple[str, ...]]]:
    rows = []
    for s in data.get("items", []):
        if s.get("secret"):
            value = t("settings.secret")
        else:
            value = _shown(s.get("value"))
        when = t("settings.restart") if s.get("restart") else t("settings.live")
        rows.append((s["name"], (s["name"], value, _shown(s.get("default")) if not s.get("secret") else "—", when)))
    return rows


def parse_value(kind: str, text: str) -> Any:
    """What the admin typed → the JSON value for the setting's type; ValueError when it is not one."""
    text = text.strip()
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text.replace(",", "."))
    return text


def change_summary(out: dict[str, Any], t) -> str:
    parts = []
    if out.get("applied"):
        parts.append(t("settings.applied", names=", ".join(out["applied"])))
    if out.get("restart_required"):
        parts.append(t("settings.after_restart", names=", ".join(out["restart_required"])))
    if out.get("overridden_by_env"):
        parts.append(t("settings.overridden", names=", ".join(out["overridden_by_env"])))
    return " ".join(parts) or t("settings.saved")


# -- view -----------------------------------------------------------------------------------------
class View(Tab):
    name = "settings"
    title_key = "tab.settings"
    admin_only = True

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.data: dict[str, Any] = {}
        self.file_text = ttk.Label(self, text="", foreground="#555")
        self.file_text.pack(anchor="w")
        cols = {"name": 230, "value": 330, "default": 250, "when": 170}
        self.tree = ttk.Treeview(self, columns=tuple(cols), show="headings", height=14, selectmode="browse")
        for col, width in cols.items():
            self.tree.heading(col, text=t(f"settings.col_{col}"))
            self.tree.column(col, width=width, anchor="w")
        self.tree.pack(fill="both", expand=True, pady=4)
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._selected())
        edit = ttk.LabelFrame(self, text=t("settings.edit"), padding=8)
        edit.pack(fill="x")
        self.name_text = ttk.Label(edit, text="", font=("TkDefaultFont", 11, "bold"))
        self.name_text.grid(row=0, column=0, columnspan=3, sticky="w")
        self.help_text = ttk.Label(edit, text=t("settings.pick"), wraplength=1000, justify="left")
        self.help_text.grid(row=1, column=0, columnspan=3, sticky="w")
        self.hint_text = ttk.Label(edit, text="", foreground="#8a5a00")
        self.hint_text.grid(row=2, column=0, columnspan=3, sticky="w")
        self.value = ttk.Entry(edit, width=60)
        self.value.grid(row=3, column=0, sticky="w", pady=6)
        self.save_button = ttk.Button(edit, text=t("common.save"), style="Accent.TButton", command=self.save)
        self.save_button.grid(row=3, column=1, padx=6)
        self.message = ttk.Label(self, text="", wraplength=1000)
        self.message.pack(anchor="w", pady=4)

    def refresh(self) -> None:
        self.ctx.bridge.call(lambda: self.ctx.client.get("/settings"), self._render, self._failed)

    def _render(self, data: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        self.data = data
        keep = self.tree.selection()
        self.tree.delete(*self.tree.get_children())
        for name, cells in setting_rows(data, self.ctx.t):
            self.tree.insert("", "end", iid=name, values=cells)
        if keep and self.tree.exists(keep[0]):
            self.tree.selection_set(keep[0])
        self.file_text.configure(text=self.ctx.t("settings.file", path=data.get("file", "")))

    def item(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.data.get("items", []) if s["name"] == name), None)

    def _selected(self) -> None:
        sel = self.tree.selection()
        s = self.item(sel[0]) if sel else None
        if s is None:
            return
        t = self.ctx.t
        self.name_text.configure(text=f"{s['name']}  ({s.get('env', '')})")
        self.help_text.configure(text=s.get("help", ""))
        hints = [t("settings.restart_hint") if s.get("restart") else t("settings.live_hint")]
        if s.get("from_env"):
            hints.append(t("settings.env_hint", env=s.get("env", "")))
        if not s.get("editable", True) or s.get("secret"):
            hints.append(t("settings.not_editable"))
        self.hint_text.configure(text="  ".join(hints))
        self.value.state(["!disabled"])
        self.value.delete(0, "end")
        if not s.get("secret"):
            shown = s.get("saved") if s.get("saved") is not None else s.get("value")
            self.value.insert(0, "" if shown is None else str(shown))
        editable = s.get("editable", True) and not s.get("secret")
        self.value.state(["!disabled"] if editable else ["disabled"])
        self.save_button.state(["!disabled"] if editable else ["disabled"])

    def save(self) -> None:
        sel = self.tree.selection()
        s = self.item(sel[0]) if sel else None
        if s is None:
            return
        try:
            value = parse_value(s["type"], self.value.get())
        except ValueError:
            self._say(self.ctx.t("settings.bad_value", name=s["name"], kind=s["type"]), True)
            return
        name = s["name"]

        def done(out: dict[str, Any]) -> None:
            self._say(change_summary(out, self.ctx.t))
            self.refresh()

        self.ctx.bridge.call(lambda: self.ctx.client.patch("/settings", {name: value}), done, self._failed)

    def _say(self, text: str, error: bool = False) -> None:
        if self.winfo_exists():
            self.message.configure(text=text, foreground="#b3261e" if error else "")

    def _failed(self, e: BaseException) -> None:
        self._say(self.ctx.t("common.error", message=e.message if isinstance(e, ApiError) else str(e)), True)

    def open_item(self, **kw) -> None:
        name = kw.get("setting")
        if name and self.tree.exists(name):
            self.tree.selection_set(name)
            self.tree.see(name)
