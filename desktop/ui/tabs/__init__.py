"""One module per tab. Each tab is a *model* (plain functions: API data in, rows/series out,
unit-tested without Tk) and a *view*: a ``Tab`` subclass that asks the bridge and renders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from tkinter import ttk

from desktop.ui.api_client import ApiClient
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings


@dataclass
class TabContext:
    """What every tab gets from the window. ``navigate(tab_name, **kw)`` opens another tab on an
    item (e.g. ``navigate("contacts", contact_id=…)``, ``navigate("team", user_id=…)``)."""

    client: ApiClient
    bridge: Bridge
    t: Strings
    navigate: Callable[..., None] = lambda tab, **kw: None
    status: Callable[[str], None] = lambda text: None  # a line in the status bar
    extra: dict = field(default_factory=dict)


class Tab(ttk.Frame):
    """Base of a tab view. ``name`` is its key for navigation, ``title_key`` its label."""

    name = ""
    title_key = ""

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, padding=8)
        self.ctx = ctx

    def refresh(self) -> None:
        """Reload from the API (called when the tab is shown and by the window's refresh)."""

    def open_item(self, **kw) -> None:
        """Show one item (a contact, a user…) asked for by another tab."""
