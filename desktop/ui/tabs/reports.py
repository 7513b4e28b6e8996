"""Reports tab: a PDF of a period, written as a job with a progress bar and a cancel button,
saved where the user chooses; and the weekly report the tab writes by itself while the app runs.

The job runs on the bridge's worker (the API call and the pages, desktop/ui/report_pdf.py);
progress comes back to the Tk thread through `bridge.post`.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from tkinter import filedialog, ttk

from desktop.ui import report_pdf
from desktop.ui.dashboard_model import PRESETS, period
from desktop.ui.tabs import Tab, TabContext

WEEKLY_CHECK_MS = 60 * 60 * 1000  # the weekly report is looked for hourly (and when the tab starts)
REPORT_PRESETS = ("last_week",) + PRESETS


def report_period(preset: str, today: date) -> tuple[date, date]:
    if preset == "last_week":
        return report_pdf.last_week(today)
    return period(preset, today)


class View(Tab):
    name = "reports"
    title_key = "reports.title"

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.folder = Path(ctx.extra.get("reports_dir") or report_pdf.default_folder())
        self._cancel: threading.Event | None = None
        self.last_written: Path | None = None
        self.weekly_written: Path | None = None

        box = ttk.LabelFrame(self, text=t("reports.title"), padding=10)
        box.pack(fill="x")
        ttk.Label(box, text=t("reports.period")).grid(row=0, column=0, sticky="w")
        self._names = {t(f"reports.period.{p}" if p == "last_week" else f"dash.period.{p}"): p for p in REPORT_PRESETS}
        self.period_box = ttk.Combobox(box, state="readonly", width=20, values=list(self._names))
        self.period_box.current(0)
        self.period_box.grid(row=0, column=1, padx=6, sticky="w")
        self.generate_button = ttk.Button(box, text=t("reports.generate"), command=self.choose_and_generate)
        self.generate_button.grid(row=0, column=2, padx=6)
        self.cancel_button = ttk.Button(box, text=t("reports.cancel"), command=self.cancel, state="disabled")
        self.cancel_button.grid(row=0, column=3, padx=6)
        self.progress = ttk.Progressbar(box, mode="determinate", length=420, maximum=1)
        self.progress.grid(row=1, column=0, columnspan=4, sticky="we", pady=(10, 4))
        self.message = ttk.Label(box, text="", wraplength=700, justify="left")
        self.message.grid(row=2, column=0, columnspan=4, sticky="w")

        weekly = ttk.LabelFrame(self, text=t("reports.weekly"), padding=10)
        weekly.pack(fill="x", pady=(12, 0))
        ttk.Label(weekly, text=t("reports.weekly_folder", folder=self.folder), wraplength=700, justify="left").pack(
            anchor="w"
        )
        self.weekly_message = ttk.Label(weekly, text=t("reports.weekly_none"), wraplength=700, justify="left")
        self.weekly_message.pack(anchor="w", pady=(6, 0))
        if ctx.extra.get("weekly_reports", True):
            self.after(2000, self._weekly_tick)

    # -- a report on demand ----------------------------------------------------------------
    def selected_period(self, today: date | None = None) -> tuple[date, date]:
        return report_period(self._names.get(self.period_box.get(), "last_week"), today or date.today())

    def choose_and_generate(self) -> None:
        first, last = self.selected_period()
        path = filedialog.asksaveasfilename(
            parent=self,
            title=self.ctx.t("reports.save_title"),
            defaultextension=".pdf",
            filetypes=[("PDF", "*.pdf")],
            initialdir=str(self.folder),
            initialfile=self.ctx.t("reports.file_name", first=first.isoformat(), last=last.isoformat()),
        )
        if path:
            self.generate(Path(path), first, last)

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def generate(self, path: Path, first: date | None = None, last: date | None = None) -> None:
        """Write the report of [first, last] (default: the chosen period) to `path`, as a job."""
        if self.running:
            return
        if first is None or last is None:
            first, last = self.selected_period()
        t, client, bridge = self.ctx.t, self.ctx.client, self.ctx.bridge
        cancel = self._cancel = threading.Event()
        self.generate_button.configure(state="disabled")
        self.cancel_button.configure(state="normal")
        self.progress.configure(value=0, maximum=1)
        self.message.configure(text=t("reports.fetching"))
        scope = t("report.team") if client.is_admin else (client.user or {}).get("username", "")

        def job() -> Path:
            d = report_pdf.fetch(client, first, last)
            return report_pdf.write(
                path,
                d,
                t,
                scope,
                progress=lambda done, total: bridge.post(self._progress, (done, total)),
                cancelled=cancel.is_set,
            )

        bridge.call(job, self._done, self._failed)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.progress.configure(maximum=total, value=done)
        self.message.configure(text=self.ctx.t("reports.working", done=done, total=total))

    def _finish(self) -> None:
        self._cancel = None
        self.generate_button.configure(state="normal")
        self.cancel_button.configure(state="disabled")

    def _done(self, path: Path) -> None:
        self._finish()
        self.last_written = path
        self.message.configure(text=self.ctx.t("reports.done", path=path))
        self.ctx.status(self.ctx.t("reports.done", path=path))

    def _failed(self, error: BaseException) -> None:
        self._finish()
        self.progress.configure(value=0)
        if isinstance(error, report_pdf.Cancelled):
            self.message.configure(text=self.ctx.t("reports.cancelled"))
        else:
            self.message.configure(text=self.ctx.t("reports.failed", message=getattr(error, "message", str(error))))

    # -- the weekly report -----------------------------------------------------------------
    def _weekly_tick(self) -> None:
        client, folder, t = self.ctx.client, self.folder, self.ctx.t
        self.ctx.bridge.call(lambda: report_pdf.weekly(client, folder, t), self._weekly_done, lambda e: None)
        self.after(WEEKLY_CHECK_MS, self._weekly_tick)

    def _weekly_done(self, path: Path | None) -> None:
        if path is not None:
            self.weekly_written = path
            self.weekly_message.configure(text=self.ctx.t("reports.weekly_written", path=path))
