"""A job's progress in a tab: bar, text and Cancel, polling `GET /jobs/{id}` through the bridge
(never on the Tk thread) until the job ends; `DELETE /jobs/{id}` cancels it."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from desktop.ui.api_client import ApiError
from desktop.ui.tabs import TabContext

ENDED = ("done", "failed", "cancelled")
POLL_MS = 400


def job_progress(job: dict[str, Any], t: Callable[..., str]) -> tuple[float | None, str]:
    """(percent or None when the size is unknown, the line under the bar). Pure, unit-tested."""
    done, total, state = job.get("done") or 0, job.get("total") or 0, job.get("state", "")
    pct = min(100.0, done * 100.0 / total) if total else None
    if state == "done":
        pct = 100.0
    msg = job.get("message") or ""
    if state == "done":
        return pct, msg or t("job.done")
    if state in ("failed", "cancelled"):
        return pct, t(f"job.{state}", message=msg)
    if total > 1 << 20:  # a file: sizes in MB
        return pct, t("job.bytes", message=msg, done=f"{done / 1e6:.1f}", total=f"{total / 1e6:.1f}")
    if pct is not None and state != "done":
        return pct, t("job.percent", message=msg, pct=f"{pct:.0f}")
    return pct, msg or t(f"job.{state}" if state else "state.loading", message="")


class JobBar(ttk.Frame):
    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master)
        self.ctx = ctx
        self.job: dict[str, Any] | None = None
        self._on_end: Callable[[dict], None] | None = None
        self.bar = ttk.Progressbar(self, length=280, maximum=100)
        self.text = ttk.Label(self, text="")
        self.cancel_button = ttk.Button(self, text=ctx.t("job.cancel"), command=self.cancel)
        self.cancel_button.state(["disabled"])  # until a job runs
        self.bar.grid(row=0, column=0, sticky="ew", padx=(0, 8))
        self.cancel_button.grid(row=0, column=1)
        self.text.grid(row=1, column=0, columnspan=2, sticky="w")
        self.columnconfigure(0, weight=1)
        self._alive = True
        self.bind("<Destroy>", lambda _e: setattr(self, "_alive", False), add="+")

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.get("state") not in ENDED

    def track(self, job: dict[str, Any], on_end: Callable[[dict], None] | None = None) -> None:
        """Follow a job the API just answered with; ``on_end(job)`` when it is done/failed/cancelled."""
        self._on_end = on_end
        self.cancel_button.state(["!disabled"])
        self._show(job)

    def _show(self, job: dict[str, Any]) -> None:
        if not self._alive:
            return
        self.job = job
        pct, text = job_progress(job, self.ctx.t)
        if pct is None:
            if str(self.bar.cget("mode")) != "indeterminate":
                self.bar.configure(mode="indeterminate")
                self.bar.start(80)
        else:
            if str(self.bar.cget("mode")) != "determinate":
                self.bar.stop()
                self.bar.configure(mode="determinate")
            self.bar["value"] = pct
        self.text.configure(text=text)
        if job.get("state") in ENDED:
            if str(self.bar.cget("mode")) == "indeterminate":  # stop() also resets the value
                self.bar.stop()
                self.bar.configure(mode="determinate")
                self.bar["value"] = pct or 0
            self.cancel_button.state(["disabled"])
            if self._on_end:
                self._on_end(job)
            return
        self.after(POLL_MS, self._poll)

    def _poll(self) -> None:
        if not self._alive or self.job is None:
            return
        jid = self.job["id"]
        self.ctx.bridge.call(lambda: self.ctx.client.get(f"/jobs/{jid}"), self._show, self._poll_failed)

    def _poll_failed(self, e: BaseException) -> None:
        if not self._alive:
            return
        msg = e.message if isinstance(e, ApiError) else str(e)
        self.text.configure(text=self.ctx.t("job.poll_failed", message=msg))
        self.after(POLL_MS * 5, self._poll)  # the server may come back: keep following

    def cancel(self) -> None:
        if not self.running:
            return
        jid = self.job["id"]
        self.cancel_button.state(["disabled"])
        self.ctx.bridge.call(lambda: self.ctx.client.delete(f"/jobs/{jid}"), lambda _r: None,
                             lambda e: self.text.configure(text=str(e)))


def busy(widget: tk.Widget, on: bool) -> None:
    """Disable a button while its request runs (so one click sends one request)."""
    try:
        widget.state(["disabled"] if on else ["!disabled"])  # type: ignore[attr-defined]
    except (AttributeError, tk.TclError):
        pass
