"""Models tab: the catalogue and the files with their GGUF metadata and whether they fit this
machine; download (progress, cancel), import a GGUF by path, activate with settings, Test
(tokens/s). A failed switch shows the server's reason; the old model keeps serving."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk
from typing import Any

from desktop.ui.api_client import ApiError
from desktop.ui.job_bar import JobBar, busy
from desktop.ui.tabs import Tab, TabContext

COLUMNS = ("name", "arch", "params", "quant", "ctx", "size", "fits", "state")


# -- model: API data in, rows out (no Tk) -----------------------------------------------------------
def _size(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _params(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e9:.1f} B" if n >= 1e9 else f"{n / 1e6:.0f} M"


def model_rows(data: dict[str, Any], t) -> list[tuple[str, tuple[str, ...]]]:
    """(id, cells) per model: catalogue first, then files that are only on disk."""
    rows = []
    for m in data.get("items", []):
        meta = m.get("metadata") or {}
        fit = m.get("memory") or {}
        fits = "—" if not fit else (t("models.fits_yes") if fit.get("fits") else t("models.fits_no"))
        if m.get("active"):
            state = t("models.state_active")
        elif m.get("present"):
            state = t("models.state_present")
        else:
            state = t("models.state_missing")
        if m.get("error"):
            state = t("models.state_error", error=m["error"])
        rows.append((m["id"], (
            m.get("name") or m["id"],
            meta.get("architecture") or "—",
            _params(meta.get("parameters")),
            meta.get("quantization") or "—",
            str(meta.get("context_length") or "—"),
            _size(m.get("size")),
            fits,
            state,
        )))
    return rows


def test_summary(result: dict[str, Any], t) -> str:
    """The Test job's result as one line: generation and prompt tokens/s."""
    gen, prompt = result.get("generation_tokens_per_s"), result.get("prompt_tokens_per_s")
    if gen is None:
        return t("models.test_no_speed", seconds=result.get("seconds", "?"))
    return t("models.test_result", model=result.get("model", ""), gen=f"{gen:.1f}", prompt=f"{prompt or 0:.0f}",
             seconds=result.get("seconds", "?"))


def engine_changes(fields: dict[str, str], active: dict[str, Any]) -> dict[str, Any]:
    """The activate body's settings from the form: only what differs; ValueError names a bad one."""
    out: dict[str, Any] = {}
    for name, cast in (("n_ctx", int), ("n_threads", int), ("temperature", float)):
        text = fields.get(name, "").strip().replace(",", ".")
        if not text:
            continue
        try:
            value = cast(text)
        except ValueError:
            raise ValueError(name) from None
        if value != active.get(name):
            out[name] = value
    return out


# -- view ---------------------------------------------------------------------------------------
class View(Tab):
    name = "models"
    title_key = "tab.models"
    admin_only = True

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.data: dict[str, Any] = {}
        self._rows: dict[str, tuple[str, ...]] = {}  # what the table shows, by model id
        self._texts: dict[str, str] = {}  # what the state labels show
        self.active_text = ttk.Label(self, text=t("state.loading"), font=("TkDefaultFont", 11, "bold"))
        self.active_text.pack(anchor="w")
        self.machine_text = ttk.Label(self, text="", foreground="#555")
        self.machine_text.pack(anchor="w", pady=(0, 6))
        self.tree = ttk.Treeview(self, columns=COLUMNS, show="headings", height=9, selectmode="browse")
        widths = (260, 80, 70, 80, 70, 80, 110, 160)
        for col, width in zip(COLUMNS, widths, strict=True):
            self.tree.heading(col, text=t(f"models.col_{col}"))
            self.tree.column(col, width=width, anchor="w")
        self.tree.pack(fill="x")
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._selected())

        actions = ttk.Frame(self)
        actions.pack(fill="x", pady=8)
        self.download_button = ttk.Button(actions, text=t("models.download"), command=self.download)
        self.activate_button = ttk.Button(actions, text=t("models.activate"), style="Accent.TButton",
                                          command=self.activate)
        self.test_button = ttk.Button(actions, text=t("models.test"), command=self.test)
        self.refresh_button = ttk.Button(actions, text=t("common.refresh"), command=self.refresh)
        for b in (self.download_button, self.activate_button, self.test_button, self.refresh_button):
            b.pack(side="left", padx=(0, 6))

        settings = ttk.LabelFrame(self, text=t("models.settings"), padding=8)
        settings.pack(fill="x")
        self.fields: dict[str, ttk.Entry] = {}
        for i, name in enumerate(("n_ctx", "n_threads", "temperature")):
            ttk.Label(settings, text=t(f"models.{name}")).grid(row=0, column=i * 2, sticky="w", padx=(0, 4))
            e = ttk.Entry(settings, width=8)
            e.grid(row=0, column=i * 2 + 1, sticky="w", padx=(0, 16))
            self.fields[name] = e
        ttk.Label(settings, text=t("models.settings_help"), foreground="#555", wraplength=900).grid(
            row=1, column=0, columnspan=6, sticky="w", pady=(4, 0))

        imp = ttk.LabelFrame(self, text=t("models.import"), padding=8)
        imp.pack(fill="x", pady=8)
        self.import_path = ttk.Entry(imp, width=70)
        self.import_path.grid(row=0, column=0, sticky="ew")
        ttk.Button(imp, text=t("models.browse"), command=self._browse).grid(row=0, column=1, padx=6)
        self.import_button = ttk.Button(imp, text=t("models.import_button"), command=self.import_file)
        self.import_button.grid(row=0, column=2)
        ttk.Label(imp, text=t("models.import_help"), foreground="#555").grid(row=1, column=0, columnspan=3,
                                                                            sticky="w")
        imp.columnconfigure(0, weight=1)

        self.job = JobBar(self, ctx)
        self.job.pack(fill="x")
        self.message = ttk.Label(self, text="", wraplength=1000, justify="left")
        self.message.pack(anchor="w", pady=6)
        self.test_result = ttk.Label(self, text="", font=("TkDefaultFont", 12, "bold"))
        self.test_result.pack(anchor="w")
        self._selected()

    # -- data ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.bridge.call(lambda: self.ctx.client.get("/models"), self._render, self._error)

    def _render(self, data: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        t = self.ctx.t
        self.data = data
        self._show_rows(model_rows(data, t))
        a = data.get("active") or {}
        self._set_text(self.active_text, t("models.active", id=a.get("id") or "—",
                                           state=t(f"models.engine_{a.get('state', 'unavailable')}")))
        m = data.get("machine") or {}
        if m.get("mem_total"):
            self._set_text(self.machine_text, t("models.machine", total=f"{m['mem_total'] / 2**30:.1f}",
                                                free=f"{(m.get('mem_available') or 0) / 2**30:.1f}"))
        for name, entry in self.fields.items():
            if not entry.get() and a.get(name) is not None:
                entry.insert(0, str(a[name]))
        self._selected()

    def _show_rows(self, rows: list[tuple[str, tuple[str, ...]]]) -> None:
        """Only the rows that changed: every Tcl call gives up the GIL, which the model's and the
        server's threads then hold for a while (a full rebuild stalled the window)."""
        wanted = dict(rows)
        for mid in [m for m in self._rows if m not in wanted]:
            self.tree.delete(mid)
            del self._rows[mid]
        for i, (mid, cells) in enumerate(rows):
            if mid not in self._rows:
                self.tree.insert("", i, iid=mid, values=cells)
            elif self._rows[mid] != cells:
                self.tree.item(mid, values=cells)
            self._rows[mid] = cells
        if list(self._rows) != [mid for mid, _ in rows]:  # the order changed
            for i, (mid, _) in enumerate(rows):
                self.tree.move(mid, "", i)
            self._rows = {mid: self._rows[mid] for mid, _ in rows}

    def _set_text(self, label: ttk.Label, text: str) -> None:
        if self._texts.get(str(label)) != text:
            label.configure(text=text)
            self._texts[str(label)] = text

    def _error(self, e: BaseException) -> None:
        if self.winfo_exists():
            self.message.configure(text=self.ctx.t("common.error", message=getattr(e, "message", None) or str(e)),
                                   foreground="#b3261e")

    def selected(self) -> dict[str, Any] | None:
        sel = self.tree.selection()
        if not sel:
            return None
        return next((m for m in self.data.get("items", []) if m["id"] == sel[0]), None)

    def _selected(self) -> None:
        m = self.selected()
        present = bool(m and m.get("present"))
        can_download = bool(m and not m.get("present") and m.get("url") and not self.job.running)
        busy(self.download_button, not can_download)
        busy(self.activate_button, not present)
        busy(self.test_button, not present)

    def open_item(self, **kw) -> None:
        mid = kw.get("model_id")
        if mid and self.tree.exists(mid):
            self.tree.selection_set(mid)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.configure(text=text, foreground="#b3261e" if error else "")

    # -- actions ---------------------------------------------------------------------------------
    def download(self) -> None:
        m = self.selected()
        if not m:
            return
        busy(self.download_button, True)
        self.ctx.bridge.call(lambda: self.ctx.client.post("/models/download", {"id": m["id"]}),
                             lambda job: self.job.track(job, self._job_ended), self._failed)

    def _browse(self) -> None:
        path = filedialog.askopenfilename(filetypes=[("GGUF", "*.gguf"), ("*", "*")])
        if path:
            self.import_path.delete(0, "end")
            self.import_path.insert(0, path)

    def import_file(self) -> None:
        path = self.import_path.get().strip()
        if not path:
            self._say(self.ctx.t("models.import_pick"), error=True)
            return
        self.ctx.bridge.call(lambda: self.ctx.client.post("/models/import", {"path": path}),
                             lambda job: self.job.track(job, self._job_ended), self._failed)

    def activate(self) -> None:
        m = self.selected()
        if not m:
            return
        try:
            changes = engine_changes({k: e.get() for k, e in self.fields.items()}, self.data.get("active") or {})
        except ValueError as e:
            self._say(self.ctx.t("models.bad_field", field=self.ctx.t(f"models.{e.args[0]}")), error=True)
            return
        body = {"id": m["id"], **changes}
        busy(self.activate_button, True)
        self._say(self.ctx.t("models.switching", id=m["id"]))
        self.ctx.status(self.ctx.t("models.switching", id=m["id"]))

        def done(active: dict) -> None:
            self.ctx.status("")
            self._say(self.ctx.t("models.switched", id=active.get("id", m["id"])))
            self.refresh()

        def failed(e: BaseException) -> None:
            self.ctx.status("")
            busy(self.activate_button, False)
            why = e.message if isinstance(e, ApiError) else str(e)
            self._say(self.ctx.t("models.switch_failed", id=m["id"], why=why), error=True)

        self.ctx.bridge.call(lambda: self.ctx.client.put("/models/active", body, timeout=900), done, failed)

    def test(self) -> None:
        m = self.selected()
        body = {"id": m["id"]} if m else {}
        busy(self.test_button, True)
        self.test_result.configure(text=self.ctx.t("models.testing"))
        self.ctx.bridge.call(lambda: self.ctx.client.post("/models/test", body),
                             lambda job: self.job.track(job, self._test_ended), self._failed)

    def _test_ended(self, job: dict) -> None:
        busy(self.test_button, False)
        if job["state"] == "done":
            self.test_result.configure(text=test_summary(job.get("result") or {}, self.ctx.t))
        else:
            self.test_result.configure(text="")

    def _job_ended(self, job: dict) -> None:
        if job["state"] == "done":
            self._say(job.get("message") or "")
        elif job["state"] == "failed":
            self._say(self.ctx.t("job.failed", message=job.get("message", "")), error=True)
        self.refresh()

    def _failed(self, e: BaseException) -> None:
        self._selected()
        self._say(self.ctx.t("common.error", message=e.message if isinstance(e, ApiError) else str(e)), error=True)


_ = tk  # tkinter is the view's toolkit (filedialog above); kept explicit for readers
