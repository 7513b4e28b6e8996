"""First run: host on this PC (admin, key protection, recovery key, default model, pairing code)
or connect to a team server (URL + sign-in; for a server whose certificate comes from a private CA,
that CA's certificate file, verified against like the system's own CAs).

The keys are created by app.py's host with the protection chosen here, before the server starts;
everything after that (the admin, the model, the code) goes over HTTP like the rest of the window."""

from __future__ import annotations

import re
import ssl
import tkinter as tk
from tkinter import filedialog, ttk
from typing import Any

from desktop.ui.api_client import ApiClient, ApiError, Untrusted
from desktop.ui.job_bar import JobBar
from desktop.ui.pairing_view import PairingView

SWITCH_TIMEOUT = 900.0  # PUT /models/active answers once the new model loaded and generated
MIN_PASSWORD = 8  # the server's rule (validation.password)
PROTECTIONS = ("keyring", "keyfile", "passphrase")


def password_strength(pw: str) -> int:
    """0 (too short for the server) … 4 (strong): length and variety, minus repetition. Pure."""
    if len(pw) < MIN_PASSWORD:
        return 0
    score = 1
    score += len(pw) >= 12
    score += len(pw) >= 16
    kinds = sum(bool(re.search(p, pw)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    score += kinds >= 3
    if len(set(pw.lower())) <= len(pw) // 3 or pw.lower() in ("12345678", "password", "senha123", "conversa"):
        score = 1
    return min(4, score)


def setup_problems(username: str, password: str, repeat: str, protection: str, passphrase: str,
                   passphrase_repeat: str) -> list[str]:
    """String keys of what is wrong in the first step's form (empty: ready). Pure."""
    out = []
    if not username.strip():
        out.append("first.err_username")
    if len(password) < MIN_PASSWORD:
        out.append("first.err_password_short")
    elif password != repeat:
        out.append("first.err_password_repeat")
    if protection == "passphrase":
        if len(passphrase) < MIN_PASSWORD:
            out.append("first.err_passphrase_short")
        elif passphrase != passphrase_repeat:
            out.append("first.err_passphrase_repeat")
    return out


def normalise_server_url(text: str) -> str:
    """"conversa.loja.com.br" → "https://conversa.loja.com.br/api/v1". Pure."""
    url = text.strip().rstrip("/")
    if not re.match(r"^https?://", url):
        url = "https://" + url
    if not url.endswith("/api/v1"):
        url += "/api/v1"
    return url


class FirstRun(ttk.Frame):
    def __init__(self, master, window: Any) -> None:
        super().__init__(master, padding=30)
        self.window = window
        self.t = window.t
        self.ctx = window.context()
        self.recovery: dict[str, str] | None = None
        self.step: ttk.Frame | None = None
        self.step_name = ""
        ttk.Label(self, text=self.t("first.welcome"), font=("TkDefaultFont", 18, "bold")).pack(anchor="w")
        self.holder = ttk.Frame(self)
        self.holder.pack(fill="both", expand=True, pady=(12, 0))
        self.show_choice()

    def _new_step(self, name: str) -> ttk.Frame:
        if self.step is not None:
            self.step.destroy()
        self.step = ttk.Frame(self.holder)
        self.step.pack(fill="both", expand=True)
        self.step_name = name
        return self.step

    def _title(self, f: ttk.Frame, key: str, help_key: str | None = None) -> None:
        ttk.Label(f, text=self.t(key), font=("TkDefaultFont", 14, "bold")).pack(anchor="w")
        if help_key:
            ttk.Label(f, text=self.t(help_key), wraplength=760, justify="left").pack(anchor="w", pady=(4, 10))

    # -- 0: host here or connect ---------------------------------------------------------------
    def show_choice(self) -> None:
        f = self._new_step("choice")
        self._title(f, "first.choice_title", "first.choice_help")
        self.host_button = ttk.Button(f, text=self.t("first.host_here"), style="Accent.TButton",
                                      command=self.show_admin)
        self.host_button.pack(anchor="w", pady=4)
        ttk.Label(f, text=self.t("first.host_here_help"), foreground="#555").pack(anchor="w")
        self.remote_button = ttk.Button(f, text=self.t("first.connect"), command=self.show_remote)
        self.remote_button.pack(anchor="w", pady=(14, 4))
        ttk.Label(f, text=self.t("first.connect_help"), foreground="#555").pack(anchor="w")

    # -- 1: admin and key protection -----------------------------------------------------------
    def show_admin(self) -> None:
        f = self._new_step("admin")
        self._title(f, "first.admin_title", "first.admin_help")
        form = ttk.Frame(f)
        form.pack(anchor="w")
        self.username = self._field(form, 0, "first.username")
        self.username.insert(0, "admin")
        self.password = self._field(form, 1, "first.password", secret=True)
        self.repeat = self._field(form, 2, "first.repeat", secret=True)
        self.strength_bar = ttk.Progressbar(form, maximum=4, length=220)
        self.strength_bar.grid(row=3, column=1, sticky="w", pady=(2, 0))
        self.strength_text = ttk.Label(form, text=self.t("first.strength_0"))
        self.strength_text.grid(row=4, column=1, sticky="w")
        self.password.bind("<KeyRelease>", lambda _e: self._show_strength())

        ttk.Label(f, text=self.t("first.keys_title"), font=("TkDefaultFont", 12, "bold")).pack(anchor="w",
                                                                                            pady=(16, 2))
        ttk.Label(f, text=self.t("first.keys_help"), wraplength=760, justify="left").pack(anchor="w")
        keyring_ok = self.window.host.keyring_available()
        self.protection = tk.StringVar(value="keyring" if keyring_ok else "keyfile")
        self.protection_buttons = {}
        for p in PROTECTIONS:
            text = self.t(f"first.keys_{p}") + ("" if p != "keyring" or keyring_ok else
                                                 "  " + self.t("first.keys_keyring_missing"))
            rb = ttk.Radiobutton(f, text=text, value=p, variable=self.protection, command=self._protection_changed)
            rb.pack(anchor="w", pady=1)
            if p == "keyring" and not keyring_ok:
                rb.state(["disabled"])
            self.protection_buttons[p] = rb
        pp = ttk.Frame(f)
        pp.pack(anchor="w", padx=24)
        self.passphrase = self._field(pp, 0, "first.passphrase", secret=True)
        self.passphrase_repeat = self._field(pp, 1, "first.passphrase_repeat", secret=True)
        self._protection_changed()
        self.error = ttk.Label(f, text="", foreground="#b3261e", wraplength=760, justify="left")
        self.error.pack(anchor="w", pady=(8, 0))
        self.create_button = ttk.Button(f, text=self.t("first.create"), style="Accent.TButton", command=self.create)
        self.create_button.pack(anchor="w", pady=10)

    def _field(self, form: ttk.Frame, row: int, key: str, secret: bool = False) -> ttk.Entry:
        ttk.Label(form, text=self.t(key)).grid(row=row, column=0, sticky="w", padx=(0, 10), pady=3)
        e = ttk.Entry(form, width=34, show="•" if secret else "")
        e.grid(row=row, column=1, sticky="w", pady=3)
        return e

    def _show_strength(self) -> None:
        score = password_strength(self.password.get())
        self.strength_bar["value"] = score
        self.strength_text.configure(text=self.t(f"first.strength_{score}"))

    def _protection_changed(self) -> None:
        state = ["!disabled"] if self.protection.get() == "passphrase" else ["disabled"]
        self.passphrase.state(state)
        self.passphrase_repeat.state(state)

    def create(self) -> None:
        protection = self.protection.get()
        problems = setup_problems(self.username.get(), self.password.get(), self.repeat.get(), protection,
                                  self.passphrase.get(), self.passphrase_repeat.get())
        if problems:
            self.error.configure(text="\n".join(self.t(p) for p in problems))
            return
        self.error.configure(text=self.t("first.creating"))
        self.create_button.state(["disabled"])
        host, client = self.window.host, self.window.client
        username, password = self.username.get().strip(), self.password.get()
        passphrase = self.passphrase.get() if protection == "passphrase" else ""

        def work() -> dict[str, str] | None:
            # Resumable: a retry after a refused username does not create the keys twice.
            made = host.create_keys(protection, passphrase) if host.needs_keys() else None
            if not host.running:
                host.start(passphrase)
            client.setup(username, password)
            return made

        def done(made: dict[str, str] | None) -> None:
            if made:
                self.recovery = made
            self.window.signed_in = True
            self.window._probe()
            self.show_recovery()

        def failed(e: BaseException) -> None:
            self.create_button.state(["!disabled"])
            self.error.configure(text=self.t("common.error", message=getattr(e, "message", None) or str(e)))

        self.window.bridge.call(work, done, failed)

    # -- 2: the recovery key, once -------------------------------------------------------------
    def show_recovery(self) -> None:
        f = self._new_step("recovery")
        self._title(f, "first.recovery_title", "first.recovery_help")
        rec = self.recovery or {}
        ttk.Label(f, text=self.t("first.protected_by", method=self.t(f"first.keys_{rec.get('method', 'keyfile')}")),
                  foreground="#555").pack(anchor="w")
        self.recovery_entry = ttk.Entry(f, font=("TkFixedFont", 15), width=64, justify="center")
        self.recovery_entry.insert(0, rec.get("recovery_key", ""))
        self.recovery_entry.state(["readonly"])
        self.recovery_entry.pack(anchor="w", pady=12, ipady=6)
        ttk.Button(f, text=self.t("first.copy"), command=self._copy).pack(anchor="w")
        self.saved = tk.BooleanVar(value=False)
        self.saved_check = ttk.Checkbutton(f, text=self.t("first.saved_it"), variable=self.saved,
                                           command=self._saved_changed)
        self.saved_check.pack(anchor="w", pady=(16, 6))
        self.recovery_continue = ttk.Button(f, text=self.t("first.continue"), style="Accent.TButton",
                                            command=self._leave_recovery)
        self.recovery_continue.pack(anchor="w")
        self.recovery_continue.state(["disabled"])

    def _copy(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.recovery_entry.get())

    def _saved_changed(self) -> None:
        self.recovery_continue.state(["!disabled"] if self.saved.get() else ["disabled"])

    def _leave_recovery(self) -> None:
        if not self.saved.get():
            return
        self.recovery = None  # shown once: not kept in memory past this step
        self.show_model()

    # -- 3: the default model ------------------------------------------------------------------
    def show_model(self) -> None:
        f = self._new_step("model")
        self._title(f, "first.model_title", "first.model_help")
        self.model_text = ttk.Label(f, text=self.t("state.loading"), wraplength=760)
        self.model_text.pack(anchor="w")
        self.model_job = JobBar(f, self.ctx)
        self.model_job.pack(anchor="w", fill="x", pady=10)
        buttons = ttk.Frame(f)
        buttons.pack(anchor="w")
        self.model_continue = ttk.Button(buttons, text=self.t("first.continue"), style="Accent.TButton",
                                         command=self.show_pairing)
        self.model_continue.pack(side="left")
        self.model_continue.state(["disabled"])
        self.model_skip = ttk.Button(buttons, text=self.t("first.skip"), command=self.show_pairing)
        self.model_skip.pack(side="left", padx=8)
        self.model_retry = ttk.Button(buttons, text=self.t("first.retry"), command=self._retry_model)
        self._retry_model()

    def _retry_model(self) -> None:
        self.model_retry.pack_forget()
        self.window.bridge.call(self._start_model, self._model_started, self._model_failed)

    def _start_model(self) -> dict:
        client: ApiClient = self.window.client
        models = client.get("/models")
        default = next((m for m in models["items"] if m.get("default")), None)
        if default is None:
            return {"state": "none"}
        if default["present"]:
            return {"state": "present", "model": default}
        return {"state": "downloading", "model": default, "job": client.post("/models/download", {"id": default["id"]})}

    def _model_started(self, out: dict) -> None:
        model = out.get("model") or {}
        name = model.get("name") or model.get("id", "")
        if out["state"] == "downloading":
            self.model_text.configure(text=self.t("first.model_downloading", name=name))
            self.model_job.track(out["job"], self._model_ended)
        else:
            self.model_text.configure(text=self.t("first.model_present" if out["state"] == "present"
                                                  else "first.model_none", name=name))
            self.model_job.bar["value"] = 100 if out["state"] == "present" else 0
            self.model_continue.state(["!disabled"])

    def _model_ended(self, job: dict) -> None:
        if job["state"] != "done":  # failed or cancelled: the bar says why; another try is offered
            self.model_retry.pack(side="left")
            return
        # The server started without a model: load the one just downloaded. That can take minutes
        # on a busy PC; the first run goes on meanwhile and the status bar shows the model's state.
        model_id = (job.get("result") or {}).get("id")
        self.model_text.configure(text=self.t("first.model_loading"))
        self.model_continue.state(["!disabled"])

        def loaded(_r: Any) -> None:
            if self.winfo_exists() and self.step_name == "model":
                self.model_text.configure(text=self.t("first.model_done"))

        self.window.bridge.call(
            lambda: self.window.client.put("/models/active", {"id": model_id}, timeout=SWITCH_TIMEOUT), loaded,
            lambda e: self.window.status(self.t("common.error", message=getattr(e, "message", None) or str(e))))

    def _model_failed(self, e: BaseException) -> None:
        if not self.winfo_exists():
            return
        self.model_retry.pack(side="left")
        self.model_text.configure(text=self.t("common.error", message=getattr(e, "message", None) or str(e)))

    # -- 4: pair the extension -----------------------------------------------------------------
    def show_pairing(self) -> None:
        f = self._new_step("pairing")
        self._title(f, "first.pairing_title", "first.pairing_help")
        self.pairing = PairingView(f, self.ctx)
        self.pairing.pack(anchor="w", fill="x")
        self.pairing.new_code()
        ttk.Button(f, text=self.t("first.finish"), style="Accent.TButton", command=self.finish).pack(anchor="w",
                                                                                                 pady=14)

    def finish(self) -> None:
        self.window.signed_in_now()

    # -- or: a team server ---------------------------------------------------------------------
    def show_remote(self) -> None:
        f = self._new_step("remote")
        self._title(f, "first.remote_title", "first.remote_help")
        form = ttk.Frame(f)
        form.pack(anchor="w")
        self.remote_url = self._field(form, 0, "first.remote_url")
        self.remote_user = self._field(form, 1, "first.username")
        self.remote_password = self._field(form, 2, "first.password", secret=True)
        ttk.Label(form, text=self.t("first.remote_ca")).grid(row=3, column=0, sticky="w", padx=(0, 10), pady=3)
        ca_row = ttk.Frame(form)
        ca_row.grid(row=3, column=1, sticky="w", pady=3)
        self.remote_ca = ttk.Entry(ca_row, width=34)
        self.remote_ca.pack(side="left")
        ttk.Button(ca_row, text=self.t("first.browse"), command=self._pick_ca).pack(side="left", padx=6)
        ttk.Label(form, text=self.t("first.remote_ca_help"), foreground="#555", wraplength=560,
                  justify="left").grid(row=4, column=1, sticky="w")
        self.remote_error = ttk.Label(f, text="", foreground="#b3261e", wraplength=760)
        self.remote_error.pack(anchor="w", pady=6)
        row = ttk.Frame(f)
        row.pack(anchor="w")
        self.remote_button = ttk.Button(row, text=self.t("first.connect_button"), style="Accent.TButton",
                                        command=self.connect)
        self.remote_button.pack(side="left")
        ttk.Button(row, text=self.t("first.back"), command=self.show_choice).pack(side="left", padx=8)

    def _pick_ca(self) -> None:
        path = filedialog.askopenfilename(filetypes=[(self.t("first.remote_ca_files"), "*.crt *.pem *.cer"),
                                                     ("*", "*")])
        if path:
            self.remote_ca.delete(0, "end")
            self.remote_ca.insert(0, path)

    def connect(self) -> None:
        url = normalise_server_url(self.remote_url.get())
        user, password = self.remote_user.get().strip(), self.remote_password.get()
        ca_file = self.remote_ca.get().strip() or None
        try:
            probe = ApiClient(url, ca_file=ca_file)
        except (OSError, ssl.SSLError):
            self.remote_error.configure(text=self.t("first.err_ca_file", path=ca_file))
            return
        self.remote_button.state(["disabled"])
        self.remote_error.configure(text=self.t("first.connecting", url=url))

        def work() -> None:
            probe.get("/health")  # a wrong address fails here, before anything is saved

        def reachable(_r: Any) -> None:
            self.window.use_remote(url, ca_file)
            self.window.sign_in(user, password, failed_login)

        def failed_login(why: str) -> None:
            self.remote_button.state(["!disabled"])
            self.remote_error.configure(text=why)

        def unreachable(e: BaseException) -> None:
            if isinstance(e, Untrusted):
                failed_login(self.t("first.err_tls_untrusted", why=e.reason))
            else:
                failed_login(e.message if isinstance(e, ApiError) else str(e))

        self.window.bridge.call(work, reachable, unreachable)
