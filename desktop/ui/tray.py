"""The tray icon (pystray). pystray is imported only inside `start_tray`: it fails at import
time without a display, and `conversa serve` runs on headless machines.

Menu callbacks run on pystray's thread: they only hand events to the window's queue (the
bridge), never touch Tk. pystray's plain X11 backend has no menu (HAS_MENU is False: a left
click only runs the default item): there the click asks the window for the same menu as a Tk
popup at the pointer (`TrayActions.show_menu`), built on the Tk thread."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# pystray's X11 stop() from another thread posts a message to the icon's own loop and waits for
# it with no timeout; that loop can sit forever in an X reply (seen in CI: "Sair" from the tray
# menu froze the window on quit). Quitting waits this long, then leaves the daemon thread behind.
STOP_WAIT_S = 2.0


@dataclass
class TrayActions:
    open_window: Callable[[], None]
    toggle_pause: Callable[[], None]
    quit: Callable[[], None]
    # Where the backend draws no menu: show menu_items() some other way (the window's Tk popup).
    show_menu: Callable[[], None] | None = None


@dataclass
class TrayState:
    """Texts the menu shows; written by the Tk thread, read by pystray's."""

    server: str = ""
    model: str = ""
    paused: bool = False
    labels: dict[str, str] = field(default_factory=dict)


def icon_image(size: int = 64, paused: bool = False):
    """A green (or grey while paused) speech bubble with a C: drawn, so no image file ships."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    colour = (120, 120, 120, 255) if paused else (37, 160, 90, 255)
    d.ellipse((2, 2, size - 3, size - 12), fill=colour)
    d.polygon([(size * 0.25, size - 16), (size * 0.2, size - 2), (size * 0.45, size - 14)], fill=colour)
    d.arc((size * 0.28, size * 0.18, size * 0.72, size * 0.68), 40, 320, fill="white", width=max(3, size // 10))
    return img


def x11_tray_present() -> bool:
    """On X11, whether a tray host owns the system-tray selection. Without one pystray's X11
    backend never docks and its setup thread never ends (the process would not exit)."""
    import os
    import sys

    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return True
    try:
        from Xlib import X, display
    except ImportError:
        return True  # another backend (AppIndicator, GTK) decides for itself
    try:
        d = display.Display()
    except Exception:  # noqa: BLE001 - no X connection: no tray
        return False
    try:
        atom = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
        return d.get_selection_owner(atom) != X.NONE
    finally:
        d.close()


def _receive_clicks(icon) -> None:
    """pystray 0.19's X11 icon window selects only expose and structure events, so the X server
    never sends it the button presses its click handler waits for (a click did nothing): add
    them. Done before its thread starts, on the icon's own window."""
    from Xlib import X

    window, disp = getattr(icon, "_window", None), getattr(icon, "_display", None)
    if window is None or disp is None:
        return
    window.change_attributes(event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask)
    disp.flush()


class _LoopOnlyFlush:
    """The icon's X connection as its loop thread sees it, except that ``flush`` from another
    thread does nothing (what it would send goes out through ``_own_loop_display``'s poster)."""

    def __init__(self, display, loop: threading.Thread) -> None:
        self._display, self._loop = display, loop

    def flush(self) -> None:
        if threading.current_thread() is self._loop:
            self._display.flush()

    def __getattr__(self, name: str):
        return getattr(self._display, name)


def _own_loop_display(icon, loop: threading.Thread) -> None:
    """Keep pystray's X11 icon connection to its loop thread. pystray posts each call from another
    thread (setup's ``visible``, ``refresh``, ``stop``) as a client message on that same connection
    and flushes it there, while the loop thread reads it; python-xlib then lost replies: in CI the
    loop waited forever in ``get_geometry`` (quitting froze) and once setup never finished (no icon
    after 30 s). Other threads post through a second connection of their own instead, and the
    loop's ``_thread`` is set before the setup thread can read it (pystray sets it after waking
    setup). Done before the loop starts."""
    from Xlib import X, display
    from Xlib.protocol import event

    poster, lock = display.Display(), threading.Lock()
    send_from_loop = icon._send_message

    def send_message(window, client_type, l0=0, l1=0, l2=0, l3=0) -> None:
        if threading.current_thread() is loop:
            send_from_loop(window, client_type, l0, l1, l2, l3)
            return
        msg = event.ClientMessage(window=window.id, client_type=client_type, data=(32, (X.CurrentTime, l0, l1, l2, l3)))
        with lock:
            poster.send_event(window.id, msg, event_mask=X.NoEventMask)
            poster.flush()

    icon._send_message = send_message
    icon._display = _LoopOnlyFlush(icon._display, loop)
    icon._thread = loop


class Tray:
    def __init__(self, actions: TrayActions, state: TrayState) -> None:
        self.actions = actions
        self.state = state
        self.icon = None
        self.ready = threading.Event()
        self.error: str | None = None
        self.has_menu = True  # False on pystray's X11 backend: the click asks for show_menu
        self._calls: queue.SimpleQueue | None = None  # see _call
        self._calls_lock = threading.Lock()
        self._refresh_queued = threading.Event()
        self._shown_paused = False  # the image the icon shows (set by the caller thread)
        # pystray's X11 title is the window's WM_NAME, a Latin-1 STRING: python-xlib raised on
        # "—", so the title never changed there.
        self._latin1_title = False
        self._loop: threading.Thread | None = None  # pystray's X11 loop, run on a thread of ours

    def menu_items(self) -> list[tuple[str, Callable[[], None] | None]]:
        """(label, action) rows; the state rows have no action. Plain data, unit-tested."""
        lb = self.state.labels
        return [
            (lb.get("open", "Open Conversa"), self.actions.open_window),
            (self.state.server, None),
            (self.state.model, None),
            (lb.get("resume" if self.state.paused else "pause", "Pause analysis"), self.actions.toggle_pause),
            (lb.get("quit", "Quit"), self.actions.quit),
        ]

    def start(self) -> bool:
        """Show the icon (in pystray's own thread); False when no tray could be started."""
        if not x11_tray_present():
            self.error = "no system tray on this display"
            log.warning("no tray icon: %s", self.error)
            return False
        try:
            import pystray
        except Exception as e:  # noqa: BLE001 - no display, no backend: the window works without
            self.error = f"{type(e).__name__}: {e}"
            log.warning("no tray icon: %s", self.error)
            return False

        def item(index: int, default: bool = False):
            return pystray.MenuItem(
                lambda _i: self.menu_items()[index][0],
                lambda _icon, _item: self._run(index),
                default=default,
                enabled=lambda _i: self.menu_items()[index][1] is not None,
            )

        self.has_menu = bool(getattr(pystray.Icon, "HAS_MENU", True))
        if self.has_menu or self.actions.show_menu is None:
            menu = pystray.Menu(item(0, default=True), item(1), item(2), pystray.Menu.SEPARATOR, item(3), item(4))
        else:
            # Only the default item is ever run here (on a left click): it asks for the popup.
            show_menu = self.actions.show_menu
            menu = pystray.Menu(pystray.MenuItem("Conversa", lambda _icon, _item: show_menu(), default=True))

        def setup(icon) -> None:
            try:
                icon.visible = True
            except Exception as e:  # noqa: BLE001 - reported below
                self.error = f"{type(e).__name__}: {e}"
            # The X11 backend logs and carries on when no tray host docks it: then there is no
            # icon to bring the window back, and closing the window must quit instead of hiding.
            if getattr(icon, "_systray_manager", True) is None:
                self.error = self.error or "no system tray on this display"
            if self.error is None:
                log.info("tray icon shown")
                self.ready.set()
            else:
                log.warning("no tray icon: %s", self.error)

        try:
            self.icon = icon = pystray.Icon("conversa", icon_image(), "Conversa", menu)
            if type(icon).__module__.endswith("_xorg"):
                self._latin1_title = True
                _receive_clicks(icon)
                # The X11 backend's run_detached() starts a second setup thread that waits forever
                # (and keeps the process alive after quitting): run it on a thread of ours instead.
                loop = threading.Thread(target=lambda: icon.run(setup), name="conversa-tray", daemon=True)
                _own_loop_display(icon, loop)
                self._loop = loop
                loop.start()
            else:
                icon.run_detached(setup)
        except Exception as e:  # noqa: BLE001 - e.g. no system tray on this desktop
            self.error = f"{type(e).__name__}: {e}"
            log.warning("no tray icon: %s", self.error)
            return False
        return True

    def _run(self, index: int) -> None:
        action = self.menu_items()[index][1]
        if action:
            action()

    def shown(self) -> bool:
        """Whether the icon is up now: it came up, and (X11) its loop still runs and it is docked.
        The loop ends when its X connection fails; then the icon is gone and the window is the
        only way in."""
        icon = self.icon
        if not self.ready.is_set() or icon is None or (self._loop is not None and not self._loop.is_alive()):
            return False
        # The X11 backend carries on undocked when its tray host went away and it could not dock again.
        return getattr(icon, "_systray_manager", True) is not None

    def _call(self, fn: Callable[[], None]) -> threading.Event:
        """Run ``fn`` on the tray's one caller thread; the event is set when it has run. pystray's
        calls from outside its loop wait for the loop with no timeout, so the Tk thread never makes
        them itself; and they never overlap (two at once lost a message under stress)."""
        with self._calls_lock:
            if self._calls is None:
                self._calls = queue.SimpleQueue()
                threading.Thread(
                    target=self._serve_calls, args=(self._calls,), name="conversa-tray-calls", daemon=True
                ).start()
        done = threading.Event()
        self._calls.put((fn, done))
        return done

    @staticmethod
    def _serve_calls(calls: queue.SimpleQueue) -> None:
        while True:
            fn, done = calls.get()
            try:
                fn()
            except Exception:  # noqa: BLE001 - a tray that went away must not break the window
                log.debug("tray call failed", exc_info=True)
            finally:
                done.set()

    def refresh(self) -> None:
        """After the state changed (from the Tk thread): the menu and the icon follow, on the
        caller thread; one queued refresh at a time (it reads the state when it runs)."""
        icon = self.icon
        if not self.shown() or self._refresh_queued.is_set():
            return
        self._refresh_queued.set()

        def apply() -> None:
            self._refresh_queued.clear()
            paused, title = self.state.paused, f"Conversa — {self.state.server}"
            if self._latin1_title:
                title = title.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
            # A new image re-docks the icon on X11 (a dock request to the tray host each time; a
            # burst of them crashed trayer): only when it changes, as the title.
            if paused != self._shown_paused:
                icon.icon = icon_image(paused=paused)
                self._shown_paused = paused
            if title != icon.title:
                icon.title = title
            icon.update_menu()

        self._call(apply)

    def stop(self) -> None:
        """Take the icon down without ever blocking the caller (the Tk thread) for more than
        ``STOP_WAIT_S``: pystray's X11 stop() waits for its loop, which could sit in an X reply."""
        icon, self.icon = self.icon, None
        if icon is None:
            return
        if self._loop is not None and not self._loop.is_alive():
            return  # its loop has ended: nothing would answer pystray's stop()
        if not self._call(icon.stop).wait(STOP_WAIT_S):
            log.warning("the tray icon did not stop within %.0f s; quitting without it", STOP_WAIT_S)
