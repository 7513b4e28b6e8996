"""What the contacts and conversations tabs show while they wait or when a call fails: a
progress bar with a message line, and an API error as one readable line (never a traceback)."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from desktop.ui.api_client import ApiError
from desktop.ui.i18n import Strings

ERROR_FG = "#b3261e"


def error_text(exc: BaseException, t: Strings) -> str:
    """An API error (or any failure) as one line for the tab; never a traceback."""
    if isinstance(exc, ApiError):
        if exc.status == 0:
            return t("error.unreachable")
        if exc.status == 403:
            return t("contacts.admin_only") if exc.code == "role_not_allowed" else exc.message
        return t("contacts.error", message=exc.message)
    return t("contacts.error", message=str(exc) or type(exc).__name__)


class Busy:
    """A tab's progress state: an indeterminate bar and a message line."""

    def __init__(self, master: tk.Misc) -> None:
        self.frame = ttk.Frame(master)
        self.bar = ttk.Progressbar(self.frame, mode="indeterminate", length=140)
        self.message = ttk.Label(self.frame, text="", wraplength=900, justify="left")
        self.message.pack(side="left", fill="x", expand=True)
        self._count = 0

    def start(self) -> None:
        self._count += 1
        if self._count == 1:
            self.bar.pack(side="right")
            self.bar.start(12)

    def stop(self) -> None:
        self._count = max(0, self._count - 1)
        if not self._count:
            self.bar.stop()
            self.bar.pack_forget()

    @property
    def active(self) -> bool:
        return self._count > 0

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.configure(text=text, foreground=ERROR_FG if error else "")
