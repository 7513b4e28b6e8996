"""A pairing code shown large with its countdown, and the steps to install the extension.
Used by the first run and the Team tab."""

from __future__ import annotations

import time
from tkinter import ttk

from desktop.ui.api_client import ApiError
from desktop.ui.tabs import TabContext


def countdown(seconds_left: float) -> str:
    """"4:59" — never negative. Pure, unit-tested."""
    s = max(0, int(seconds_left + 0.999))
    return f"{s // 60}:{s % 60:02d}"


def spaced(code: str) -> str:
    """Easy to read aloud: "1234-5678" → "1234 5678"; other shapes unchanged."""
    return code.replace("-", " ")


class PairingView(ttk.Frame):
    def __init__(self, master, ctx: TabContext, *, steps: bool = True) -> None:
        super().__init__(master)
        self.ctx = ctx
        t = ctx.t
        self.code = ttk.Label(self, text="— — —", font=("TkFixedFont", 36, "bold"))
        self.code.grid(row=0, column=0, sticky="w")
        self.left = ttk.Label(self, text="", font=("TkDefaultFont", 12))
        self.left.grid(row=1, column=0, sticky="w")
        self.button = ttk.Button(self, text=t("pairing.new"), command=self.new_code)
        self.button.grid(row=2, column=0, sticky="w", pady=8)
        self.error = ttk.Label(self, text="", foreground="#b3261e")
        self.error.grid(row=3, column=0, sticky="w")
        if steps:
            ttk.Label(self, text=t("pairing.steps"), justify="left", wraplength=640).grid(row=4, column=0,
                                                                                          sticky="w", pady=(8, 0))
        self.expires_at = 0.0
        self.value = ""
        self._ticking = False

    def new_code(self) -> None:
        self.button.state(["disabled"])
        self.error.configure(text="")
        self.ctx.bridge.call(lambda: self.ctx.client.post("/pairing-codes", {}), self._got, self._failed)

    def _got(self, out: dict) -> None:
        self.button.state(["!disabled"])
        self.value = out["code"]
        self.expires_at = time.monotonic() + float(out.get("expires_in", 300))
        self.code.configure(text=spaced(self.value))
        if not self._ticking:
            self._ticking = True
            self._tick()

    def _failed(self, e: BaseException) -> None:
        self.button.state(["!disabled"])
        self.error.configure(text=e.message if isinstance(e, ApiError) else str(e))

    def _tick(self) -> None:
        if not self.winfo_exists():
            return
        left = self.expires_at - time.monotonic()
        if left <= 0:
            self.left.configure(text=self.ctx.t("pairing.expired"))
            self.code.configure(foreground="#999")
            self._ticking = False
            return
        self.code.configure(foreground="")
        self.left.configure(text=self.ctx.t("pairing.valid_for", left=countdown(left)))
        self.after(1000, self._tick)
