"""The root window: Tk, theme, pages (first run, unlock, sign-in, the tabs), status bar, tray,
the reconnect loop and quitting.

Threads as in DESIGN.md: this module runs on the Tk thread only. API calls go through the
bridge's workers; the tray's and the single-instance listener's events are posted to the same
queue, drained every 50 ms with ``after``. The hosted server (``host``, from app.py) is only
started and stopped from here, never read: data comes over HTTP.

Theme: sv-ttk (Sun Valley), a light/dark ttk theme in pure Tcl — plain ttk widgets, nothing new
to learn, no extra native dependency.
"""

from __future__ import annotations

import importlib
import logging
import ssl
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from desktop.config import Settings
from desktop.ui import chart_pool, heap, pages, session_file
from desktop.ui.api_client import ApiClient, ApiError, Unreachable
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings, pick_language
from desktop.ui.single_instance import Beacon
from desktop.ui.status import StatusModel
from desktop.ui.tabs import TabContext
from desktop.ui.tray import Tray, TrayActions, TrayState

log = logging.getLogger(__name__)
TAB_ORDER = ["dashboard", "conversations", "contacts", "models", "team", "knowledge", "settings", "audit", "reports"]
DRAIN_MS = 50
PROBE_MS = 2000
# Started hidden (--tray, at login): the window shows itself when no tray icon is up by then
# (no tray host, or one that never docked it), since the icon would be the only way in.
TRAY_WAIT_MS = 15000
TRAY_POLL_MS = 250


def load_tab_classes(order: list[str] = TAB_ORDER) -> list[type]:
    """The tab views that exist in this build, in order; a missing module is skipped."""
    out = []
    for name in order:
        module_name = f"desktop.ui.tabs.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        out.append(module.View)
    return out


class Window:
    def __init__(self, root: tk.Tk, settings: Settings, host: Any = None, *, hidden: bool = False,
                 lang: str | None = None) -> None:
        self.root = root
        self.settings = settings
        self.host = host
        self.hidden = hidden
        self.t = Strings(lang or pick_language())
        self.bridge = Bridge()
        self.bridge.on_error = self._unhandled
        self.data_dir = settings.data_path
        saved = session_file.load(self.data_dir)
        self.remote_url: str | None = saved.get("server_url")
        # A team server whose certificate comes from a private CA: that CA's file, kept with the URL.
        self.remote_ca: str | None = saved.get("server_ca") if self.remote_url else None
        self.client = self._new_client(self.remote_url or (host.url if host else ""))
        self.status_model = StatusModel()
        self.heap = heap.HeapSettler()  # the hosted model's start-up heap, out of the collector's reach
        self.tray_state = TrayState(labels={k: self.t(f"tray.{k}") for k in ("open", "pause", "resume", "quit")})
        self.tray = Tray(TrayActions(open_window=lambda: self.bridge.post(lambda _v: self.show()),
                                     toggle_pause=lambda: self.bridge.post(lambda _v: self.toggle_pause()),
                                     quit=lambda: self.bridge.post(lambda _v: self.quit()),
                                     show_menu=lambda: self.bridge.post(lambda _v: self.show_tray_menu())),
                         self.tray_state)
        self.tray_menu: tk.Menu | None = None
        self.beacon: Beacon | None = None
        self.views: dict[str, Any] = {}
        self.notebook: ttk.Notebook | None = None
        self.page: tk.Widget | None = None
        self.signed_in = False
        self.server_up: bool | None = None
        self.closed = False
        self._probing = False
        self._status_shown: tuple | None = None
        self._build()

    # -- construction --------------------------------------------------------------------------
    def _new_client(self, url: str) -> ApiClient:
        try:
            client = ApiClient(url, device="Conversa desktop", ca_file=self.remote_ca)
        except (OSError, ssl.SSLError) as e:
            # The CA file went away or broke: still verify (system CAs), and say why it fails.
            log.warning("the server's CA file %s cannot be read (%s)", self.remote_ca, e)
            client = ApiClient(url, device="Conversa desktop")
        client.on_tokens = self._remember_tokens
        return client

    def _build(self) -> None:
        root = self.root
        root.title(self.t("app.title"))
        root.geometry("1200x760")
        root.minsize(900, 600)
        try:
            import sv_ttk

            sv_ttk.set_theme("light")
        except (ImportError, tk.TclError):  # the window still works in the default ttk theme
            log.warning("sv-ttk theme not available")
        root.protocol("WM_DELETE_WINDOW", self.close_window)
        root.bind_all("<Control-q>", lambda _e: self.quit())
        self._build_menu()
        self.banner = tk.Label(root, text="", bg="#b3261e", fg="white", anchor="w", padx=12, pady=6)
        self.body = ttk.Frame(root)
        self.body.pack(side="top", fill="both", expand=True)
        bar = ttk.Frame(root, padding=(10, 4))
        bar.pack(side="bottom", fill="x")
        self.status_server = ttk.Label(bar, text="")
        self.status_model_lbl = ttk.Label(bar, text="")
        self.status_jobs = ttk.Label(bar, text="")
        self.status_line = ttk.Label(bar, text="", foreground="#555")
        for i, w in enumerate((self.status_server, self.status_model_lbl, self.status_jobs)):
            w.grid(row=0, column=i, padx=(0, 18), sticky="w")
        self.status_line.grid(row=0, column=3, sticky="e")
        bar.columnconfigure(3, weight=1)
        ttk.Separator(root).pack(side="bottom", fill="x")

    def _build_menu(self) -> None:
        menubar = tk.Menu(self.root)
        app = tk.Menu(menubar, tearoff=False)
        app.add_command(label=self.t("menu.pause"), command=self.toggle_pause)
        app.add_command(label=self.t("menu.hide"), command=self.close_window)
        app.add_command(label=self.t("menu.sign_out"), command=self.sign_out)
        app.add_separator()
        app.add_command(label=self.t("menu.quit"), command=self.quit, accelerator="Ctrl+Q")
        menubar.add_cascade(label=self.t("app.title"), menu=app)
        self.app_menu = app
        self.root.configure(menu=menubar)

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen for a second `conversa`, show the tray, then the page this state needs."""
        self.beacon = Beacon(self.data_dir, lambda: self.bridge.post(lambda _v: self.show())).start()
        self.root.after(DRAIN_MS, self._drain)
        if self.hidden:
            self.root.withdraw()
        busy: Exception | None = None
        if self.host is not None and not self.remote_url:
            try:
                self.host.claim()  # the data folder's lock; logging starts in it
            except Exception as e:  # noqa: BLE001 - DataDirBusy and the like: said on the page
                busy = e
        tray_started = self.tray.start()
        if self.hidden:
            self._show_without_tray(0 if not tray_started else TRAY_WAIT_MS)
        if busy is not None:
            why = getattr(busy, "message", str(busy))
            self.set_page(pages.Message(self.body, self.t, self.t("start.busy", why=why), quit=self.quit))
            self.root.deiconify()
            return
        if self.remote_url or self.host is None:
            self._after_server()
            return
        if self.host.needs_keys():
            from desktop.ui.tabs.first_run import FirstRun

            self.set_page(FirstRun(self.body, self))
        elif self.host.needs_passphrase():
            self.set_page(pages.Unlock(self.body, self.t, self.start_server))
        else:
            self.start_server()

    def start_server(self, passphrase: str = "", then: Callable[[], None] | None = None,
                     on_error: Callable[[str], None] | None = None) -> None:
        """Start the hosted server off the Tk thread; ``then()`` once it listens."""
        self.status_server.configure(text=self.t("status.starting"))
        self._status_shown = None  # the next probe rewrites the bar

        def failed(e: BaseException) -> None:
            self.status_server.configure(text="")
            self._status_shown = None
            why = getattr(e, "message", None) or str(e)
            if "wrong passphrase" in why:
                why = self.t("unlock.wrong")
            if on_error:
                on_error(why)
            else:
                self.set_page(pages.Message(self.body, self.t, self.t("start.failed", why=why), quit=self.quit))

        self.bridge.call(lambda: self.host.start(passphrase), lambda _r: (then or self._after_server)(), failed)

    def _after_server(self) -> None:
        # The dashboard's chart processes, warming up (matplotlib's import, a first drawing) while
        # the user signs in: started once the window is shown and the server answers, so that
        # neither waits for them.
        self.bridge.call(chart_pool.shared().start)
        self.heap.settle(heap.SERVER)  # this process's modules are loaded (the hosted server's too)
        self._probe()
        saved = session_file.load(self.data_dir)
        token = saved.get("refresh_token")
        if token and saved.get("token_url") == self.client.base_url:
            self.client.refresh_token = token

            def done(ok: bool) -> None:
                self.signed_in_now() if ok else self.show_sign_in()

            self.bridge.call(self.client.refresh, done, lambda _e: self.show_sign_in())
        else:
            self.show_sign_in()

    def show_sign_in(self) -> None:
        self.set_page(pages.SignIn(self.body, self.t, self.sign_in, server=self.client.base_url))

    def sign_in(self, username: str, password: str, on_error: Callable[[str], None]) -> None:
        def work() -> dict:
            try:
                return self.client.login(username, password)
            except ApiError as e:
                if e.status != 401 or self.remote_url:
                    raise
                try:  # a local folder with keys but no user yet (a first run cut short)
                    return self.client.setup(username, password)
                except ApiError:
                    raise e from None

        self.bridge.call(work, lambda _r: self.signed_in_now(),
                         lambda e: on_error(e.message if isinstance(e, ApiError) else str(e)))

    def signed_in_now(self) -> None:
        self.signed_in = True
        self.build_tabs()
        self._probe()

    def _remember_tokens(self, body: dict) -> None:
        # On a worker thread: a file write, no Tk.
        session_file.save(self.data_dir, refresh_token=body.get("refresh_token"), token_url=self.client.base_url)

    def use_remote(self, url: str, ca_file: str | None = None) -> None:
        """First run chose a team server: this PC hosts nothing, the window administers that one.
        ``ca_file``: the certificate of the private CA that signed the server's (empty: the system's)."""
        self.remote_url = url.rstrip("/")
        self.remote_ca = ca_file or None
        session_file.save(self.data_dir, server_url=self.remote_url, server_ca=self.remote_ca)
        if self.host is not None:
            self.bridge.call(self.host.stop)
        self.client = self._new_client(self.remote_url)

    # -- pages and tabs ------------------------------------------------------------------------
    def set_page(self, page: tk.Widget) -> None:
        if self.page is not None:
            self.page.destroy()
        self.page = page
        page.pack(fill="both", expand=True)

    def context(self) -> TabContext:
        return TabContext(client=self.client, bridge=self.bridge, t=self.t, navigate=self.navigate,
                          status=self.status, extra={"window": self, "lang": self.t.lang,
                                 "reports_dir": self.settings.reports_dir or None})

    def build_tabs(self) -> None:
        frame = ttk.Frame(self.body)
        self.notebook = ttk.Notebook(frame)
        self.notebook.pack(fill="both", expand=True, padx=8, pady=8)
        ctx = self.context()
        self.views = {}
        admin = self.client.is_admin
        for cls in load_tab_classes():
            if getattr(cls, "admin_only", False) and not admin:
                continue
            try:
                view = cls(self.notebook, ctx)
            except Exception:  # noqa: BLE001 - one broken tab must not take the window down
                log.exception("the %s tab could not be built", cls.name)
                continue
            self.notebook.add(view, text=self.t(cls.title_key))
            self.views[cls.name] = view
        self.notebook.bind("<<NotebookTabChanged>>", self._tab_changed)
        self.set_page(frame)
        self._tab_changed()  # the first tab shows its data without waiting for a click

    def _tab_changed(self, _e=None) -> None:
        view = self.current_view()
        if view is not None:
            view.refresh()

    def current_view(self):
        if self.notebook is None or not self.notebook.select():
            return None
        return self.notebook.nametowidget(self.notebook.select())

    def navigate(self, tab: str, **kw: Any) -> None:
        view = self.views.get(tab)
        if view is None or self.notebook is None:
            return
        self.notebook.select(view)
        if kw:
            view.open_item(**kw)

    # -- status bar and reconnect loop ---------------------------------------------------------
    def status(self, text: str) -> None:
        self.status_line.configure(text=text)

    def _probe(self) -> None:
        """One health probe at a time, every PROBE_MS: the status bar and the reconnect loop."""
        if self._probing or self.closed:
            return
        self._probing = True
        client, signed_in = self.client, self.signed_in and self.client.is_admin

        def work() -> dict:
            out = {"health": client.get("/health")}
            if signed_in:
                out["analysis"] = client.get("/analysis")
                out["jobs"] = client.get("/jobs", limit=50)
            return out

        self.bridge.call(work, self._probed, self._probe_failed)

    def _probed(self, out: dict) -> None:
        self._probing = False
        self.status_model.update(out)
        if self.host is not None and not self.remote_url and self.status_model.model_state == "ready":
            self.heap.settle(self.status_model.model_id)
        self._show_status()
        if self.server_up is False:
            self.status(self.t("status.reconnected"))
            view = self.current_view()
            if view is not None:
                view.refresh()
        self.server_up = True
        self.banner.pack_forget()
        self._next_probe()

    def _probe_failed(self, e: BaseException) -> None:
        self._probing = False
        if isinstance(e, Unreachable):
            self.server_up = False
            self.status_model.down()
            self.banner.configure(text=self.t("error.unreachable"))
            self.banner.pack(side="top", fill="x", before=self.body)
        elif isinstance(e, ApiError) and e.status == 401 and self.signed_in:
            self.signed_in = False
            self.show_sign_in()
        self._show_status()
        self._next_probe()

    def _next_probe(self) -> None:
        if not self.closed:
            self.root.after(PROBE_MS, self._probe)

    def _show_status(self) -> None:
        s = self.status_model.texts(self.t)
        shown = (s["server"], s["model"], s["jobs"], bool(self.status_model.paused))
        if shown == self._status_shown:  # every probe: no Tcl calls, no icon redraw when unchanged
            return
        self._status_shown = shown
        self.status_server.configure(text=s["server"])
        self.status_model_lbl.configure(text=s["model"])
        self.status_jobs.configure(text=s["jobs"])
        self.tray_state.server, self.tray_state.model = s["server"], s["model"]
        self.tray_state.paused = bool(self.status_model.paused)
        self.app_menu.entryconfigure(0, label=self.t("menu.resume" if self.status_model.paused else "menu.pause"))
        self.tray.refresh()

    def toggle_pause(self) -> None:
        if not self.signed_in:
            self.status(self.t("status.sign_in_first"))
            return
        want = not self.status_model.paused

        def done(out: dict) -> None:
            self.status_model.paused = out.get("paused")
            self._show_status()
            self.status(self.t("status.paused" if out.get("paused") else "status.resumed"))

        self.bridge.call(lambda: self.client.put("/analysis", {"paused": want}), done)

    # -- showing, hiding, quitting -------------------------------------------------------------
    def _drain(self) -> None:
        if self.closed:
            return
        self.bridge.drain()
        self.root.after(DRAIN_MS, self._drain)

    def _unhandled(self, e: BaseException) -> None:
        msg = e.message if isinstance(e, ApiError) else f"{type(e).__name__}: {e}"
        self.status(msg)

    def show(self) -> None:
        """Bring the window to the front (tray, or a second `conversa`)."""
        if self.closed:
            return
        self.root.deiconify()
        self.root.lift()
        self.root.attributes("-topmost", True)
        self.root.after(300, lambda: self.closed or self.root.attributes("-topmost", False))
        self.root.focus_force()

    def show_tray_menu(self) -> None:
        """The tray's menu as a Tk popup at the pointer, for a tray backend that draws none
        (pystray on plain X11). Built here, on the Tk thread, from the same rows as pystray's."""
        if self.closed:
            return
        menu = self.tray_menu
        if menu is None:
            menu = self.tray_menu = tk.Menu(self.root, tearoff=False)
        menu.delete(0, "end")
        for i, (label, action) in enumerate(self.tray.menu_items()):
            if i == 3:
                menu.add_separator()
            if action is None:
                menu.add_command(label=label, state="disabled")
            else:
                menu.add_command(label=label, command=action)
        x, y = self.root.winfo_pointerxy()
        menu.tk_popup(x, y)  # keeps its grab: a click elsewhere closes it

    def _show_without_tray(self, wait_ms: int) -> None:
        """Started hidden: show the window unless the tray icon is up within ``wait_ms``."""
        if self.closed or self.tray.ready.is_set():
            return
        if wait_ms > 0 and self.tray.error is None:
            self.root.after(TRAY_POLL_MS, lambda: self._show_without_tray(wait_ms - TRAY_POLL_MS))
            return
        if self.root.state() != "withdrawn":
            return  # already shown (the busy page, a second `conversa`): do not take the focus again
        log.warning("no tray icon (%s): showing the window", self.tray.error or f"none after {TRAY_WAIT_MS // 1000} s")
        self.show()

    def close_window(self) -> None:
        """The window's close button: hide into the tray when there is one, else quit."""
        if self.tray.shown():
            self.root.withdraw()
        else:
            self.quit()

    def sign_out(self) -> None:
        self.signed_in = False
        session_file.save(self.data_dir, refresh_token=None)
        client = self.client
        self.bridge.call(client.logout, lambda _r: None, lambda _e: None)
        self.show_sign_in()

    def quit(self) -> None:
        """Tray, listener and window go; main() then stops the hosted server (port released)."""
        if self.closed:
            return
        self.closed = True
        self.tray.stop()
        if self.beacon:
            self.beacon.close()
        self.bridge.close()
        chart_pool.stop_shared()
        self.root.quit()
