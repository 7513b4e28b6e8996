"""Whole-window pages shown before the tabs: a message, the passphrase prompt, the sign-in."""

from __future__ import annotations

from collections.abc import Callable
from tkinter import ttk

from desktop.ui.i18n import Strings


class Message(ttk.Frame):
    def __init__(self, master, t: Strings, text: str, quit: Callable[[], None] | None = None) -> None:
        super().__init__(master, padding=40)
        ttk.Label(self, text=text, wraplength=700, justify="left", font=("TkDefaultFont", 12)).pack(anchor="w")
        if quit:
            ttk.Button(self, text=t("menu.quit"), command=quit).pack(anchor="w", pady=16)


class Unlock(ttk.Frame):
    """Data protected by a passphrase: asked here before the server starts."""

    def __init__(self, master, t: Strings, start: Callable[..., None]) -> None:
        super().__init__(master, padding=40)
        self.t, self._start = t, start
        ttk.Label(self, text=t("unlock.title"), font=("TkDefaultFont", 16, "bold")).pack(anchor="w")
        ttk.Label(self, text=t("unlock.help"), wraplength=600).pack(anchor="w", pady=(6, 12))
        self.entry = ttk.Entry(self, show="•", width=40)
        self.entry.pack(anchor="w")
        self.entry.bind("<Return>", lambda _e: self.submit())
        self.button = ttk.Button(self, text=t("unlock.button"), style="Accent.TButton", command=self.submit)
        self.button.pack(anchor="w", pady=10)
        self.error = ttk.Label(self, text="", foreground="#b3261e", wraplength=600)
        self.error.pack(anchor="w")

    def submit(self) -> None:
        self.button.state(["disabled"])
        self.error.configure(text="")

        def failed(why: str) -> None:
            self.button.state(["!disabled"])
            self.error.configure(text=why)

        self._start(self.entry.get(), on_error=failed)


class SignIn(ttk.Frame):
    def __init__(self, master, t: Strings, sign_in: Callable[..., None], server: str = "") -> None:
        super().__init__(master, padding=40)
        self._sign_in = sign_in
        ttk.Label(self, text=t("signin.title"), font=("TkDefaultFont", 16, "bold")).grid(row=0, column=0,
                                                                                         columnspan=2, sticky="w")
        ttk.Label(self, text=t("signin.server", url=server), foreground="#555").grid(row=1, column=0, columnspan=2,
                                                                                    sticky="w", pady=(2, 14))
        ttk.Label(self, text=t("signin.username")).grid(row=2, column=0, sticky="w", padx=(0, 10))
        self.username = ttk.Entry(self, width=32)
        self.username.grid(row=2, column=1, sticky="w", pady=3)
        ttk.Label(self, text=t("signin.password")).grid(row=3, column=0, sticky="w", padx=(0, 10))
        self.password = ttk.Entry(self, width=32, show="•")
        self.password.grid(row=3, column=1, sticky="w", pady=3)
        self.password.bind("<Return>", lambda _e: self.submit())
        self.button = ttk.Button(self, text=t("signin.button"), style="Accent.TButton", command=self.submit)
        self.button.grid(row=4, column=1, sticky="w", pady=10)
        self.error = ttk.Label(self, text="", foreground="#b3261e", wraplength=500)
        self.error.grid(row=5, column=0, columnspan=2, sticky="w")
        self.username.focus_set()

    def submit(self) -> None:
        self.button.state(["disabled"])
        self.error.configure(text="")

        def failed(why: str) -> None:
            self.button.state(["!disabled"])
            self.error.configure(text=why)

        self._sign_in(self.username.get().strip(), self.password.get(), failed)
