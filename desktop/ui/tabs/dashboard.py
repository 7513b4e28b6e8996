"""Dashboard tab: the period's numbers from `GET /metrics` as KPIs, charts and two tables.

The API call and the model (desktop/ui/dashboard_model.py) run on the bridge's worker; the charts
are drawn by matplotlib in chart processes (desktop/ui/chart_pool.py), which hand back PNG images
and their clickable regions. The Tk thread only shows them, one chart per event-loop turn, and maps
a click to a region. An attendant gets their own numbers from the API and sees no attendant picker.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from datetime import date
from tkinter import ttk
from typing import Any

from desktop.ui import chart_pool, charts
from desktop.ui import format as fmt
from desktop.ui.chart_regions import ChartImage, hit
from desktop.ui.dashboard_model import PRESETS, Dashboard, build, metrics_params, named, period, reason_text
from desktop.ui.tabs import Tab, TabContext

BORDER = {"highlightthickness": 1, "highlightbackground": "#e3e7ee", "highlightcolor": "#e3e7ee"}
CARD_SIZE = (6.1, 2.6)  # inches: two cards side by side in a 1366-pixel window
RESIZE_SETTLE_MS = 250  # a resize redraws the charts once the window stopped changing size


class Scrolled(ttk.Frame):
    """A vertically scrolling frame (the dashboard is taller than the window)."""

    def __init__(self, master) -> None:
        super().__init__(master)
        self.canvas = tk.Canvas(self, highlightthickness=0, background="white")
        bar = ttk.Scrollbar(self, orient="vertical", command=self.canvas.yview)
        self.inner = tk.Frame(self.canvas, background="white")
        self.inner.bind("<Configure>", lambda e: self.canvas.configure(scrollregion=self.canvas.bbox("all")))
        self._window = self.canvas.create_window((0, 0), window=self.inner, anchor="nw")
        self.canvas.bind("<Configure>", lambda e: self.canvas.itemconfigure(self._window, width=e.width))
        self.canvas.configure(yscrollcommand=bar.set)
        self.canvas.pack(side="left", fill="both", expand=True)
        bar.pack(side="right", fill="y")
        for seq, step in (("<Button-4>", -3), ("<Button-5>", 3)):
            self.bind_all(seq, lambda e, s=step: self._wheel(e, s), add="+")
        self.bind_all("<MouseWheel>", lambda e: self._wheel(e, -1 if e.delta > 0 else 1), add="+")

    def _wheel(self, event, step: int) -> None:
        widget = self.winfo_containing(event.x_root, event.y_root)
        while widget is not None:
            if widget is self:
                self.canvas.yview_scroll(step, "units")
                return
            widget = widget.master


class Card(tk.Frame):
    """One chart: its title over the image the chart process drew (desktop/ui/chart_pool.py).
    A click on a clickable region (an attendant's bar or dot) calls ``on_open(ref)``."""

    def __init__(self, master, title: str, on_open: Callable[[str], None] | None = None) -> None:
        super().__init__(master, background="white", **BORDER)
        tk.Label(
            self, text=title, background="white", foreground=charts.INK, anchor="w", font=("TkDefaultFont", 10, "bold")
        ).pack(fill="x", padx=8, pady=(6, 0))
        width, height = (round(x * self.dpi()) for x in CARD_SIZE)
        self.canvas = tk.Canvas(self, width=width, height=height, background="white", highlightthickness=0, bd=0)
        self.canvas.pack(fill="both", expand=True, padx=4, pady=4)
        self._item = self.canvas.create_image(0, 0, anchor="nw")
        self._photo: tk.PhotoImage | None = None
        self.image: ChartImage | None = None
        self.on_open = on_open
        self.canvas.bind("<Button-1>", self._clicked)
        self.canvas.bind("<Motion>", self._hover)

    def dpi(self) -> float:
        """100 dpi times the screen's scaling (as matplotlib's Tk canvas does): bigger text on a
        HiDPI screen, 104 under Xvfb's default."""
        return 100 * round(float(self.tk.call("tk", "scaling")) / (96 / 72), 2)

    def fits(self) -> bool:
        """The image shown was drawn for this card as it is now."""
        return self.image is not None and self.image.size == self.size() and self.image.dpi == self.dpi()

    def size(self) -> tuple[int, int]:
        """The canvas's size in pixels (what a chart must be drawn at to fill it)."""
        width, height = self.canvas.winfo_width(), self.canvas.winfo_height()
        if width <= 1 or height <= 1:  # not laid out yet: the size it asked for
            width, height = int(self.canvas.cget("width")), int(self.canvas.cget("height"))
        return width, height

    def show(self, image: ChartImage) -> None:
        """Put a chart drawn by the chart process in place (Tk decodes the PNG: a few ms)."""
        photo = tk.PhotoImage(master=self.canvas, data=image.png, format="png")
        self.canvas.itemconfigure(self._item, image=photo)
        self._photo, self.image = photo, image  # the previous photo is freed here, on the Tk thread

    def ref_at(self, x: int, y: int) -> str | None:
        return hit(self.image.regions, x, y) if self.image else None

    def _clicked(self, event) -> None:
        ref = self.ref_at(event.x, event.y)
        if ref and self.on_open:
            self.on_open(ref)

    def _hover(self, event) -> None:
        cursor = "hand2" if self.ref_at(event.x, event.y) else ""
        if self.canvas.cget("cursor") != cursor:
            self.canvas.configure(cursor=cursor)


class View(Tab):
    name = "dashboard"
    title_key = "dash.title"

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.model: Dashboard | None = None
        self.users: list[dict[str, Any]] = []
        self._pending: list[tuple[str, ChartImage]] = []
        self._generation = 0
        self._resize_job: str | None = None
        self._redrawing = False  # a resize's charts are being drawn again
        self._restarted = False
        self.busy = False
        # The charts are drawn in other processes (the GIL of this one stays with Tk); they start
        # now (off this thread) if the window has not started them already, and warm up while the
        # numbers load.
        self.pool = chart_pool.shared()
        ctx.bridge.call(self.pool.start)

        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        ttk.Label(bar, text=t("dash.period")).pack(side="left")
        self.preset = tk.StringVar(value="30d")
        self._preset_names = {t(f"dash.period.{p}"): p for p in PRESETS}
        self.period_box = ttk.Combobox(bar, state="readonly", width=18, values=list(self._preset_names))
        self.period_box.set(t("dash.period.30d"))
        self.period_box.bind("<<ComboboxSelected>>", lambda e: self._pick_period())
        self.period_box.pack(side="left", padx=(4, 12))
        self.user_box: ttk.Combobox | None = None
        if ctx.client.is_admin:
            ttk.Label(bar, text=t("dash.attendant")).pack(side="left")
            self.user_box = ttk.Combobox(bar, state="readonly", width=18, values=[t("dash.attendant.all")])
            self.user_box.set(t("dash.attendant.all"))
            self.user_box.bind("<<ComboboxSelected>>", lambda e: self.refresh())
            self.user_box.pack(side="left", padx=(4, 12))
        else:
            who = (ctx.client.user or {}).get("username", "")
            ttk.Label(bar, text=t("dash.own_numbers", name=who)).pack(side="left", padx=(0, 12))
        ttk.Button(bar, text=t("dash.refresh"), command=self.refresh).pack(side="left")
        self.message = ttk.Label(bar, text="", foreground=charts.MUTED)
        self.message.pack(side="left", padx=12)

        self.kpi_frame = tk.Frame(self, background="white")
        self.kpi_frame.pack(fill="x", pady=(0, 6))
        self.kpis: dict[str, tk.Label] = {}
        for i, key in enumerate(
            (
                "conversations",
                "messages_in",
                "first_response_p50",
                "first_response_met",
                "resolution_met",
                "pipeline_value",
                "health_average",
                "at_risk",
            )
        ):
            box = tk.Frame(self.kpi_frame, background="white", **BORDER)
            box.grid(row=0, column=i, sticky="nsew", padx=2)
            self.kpi_frame.columnconfigure(i, weight=1)
            tk.Label(
                box, text=t(f"dash.kpi.{key}"), background="white", foreground=charts.MUTED, font=("TkDefaultFont", 8)
            ).pack(anchor="w", padx=6, pady=(4, 0))
            value = tk.Label(
                box, text="—", background="white", foreground=charts.INK, font=("TkDefaultFont", 14, "bold")
            )
            value.pack(anchor="w", padx=6, pady=(0, 4))
            self.kpis[key] = value

        self.scroll = Scrolled(self)
        self.scroll.pack(fill="both", expand=True)
        grid = self.scroll.inner
        self.cards: dict[str, Card] = {}
        for i, key in enumerate(charts.CHARTS):
            card = Card(grid, t(f"dash.chart.{key}"), on_open=self._open_attendant)
            card.grid(row=i // 2, column=i % 2, sticky="nsew", padx=4, pady=4)
            card.canvas.bind("<Configure>", lambda _e: self._resized(), add="+")
            self.cards[key] = card
        for col in (0, 1):
            grid.columnconfigure(col, weight=1)
        row = (len(charts.CHARTS) + 1) // 2
        self.top_table = self._table(grid, t("dash.chart.top_contacts"), ("name", "stage", "value"), row, 0)
        self.risk_table = self._table(grid, t("dash.chart.at_risk"), ("name", "score", "previous", "reasons"), row, 1)
        tk.Label(grid, text=t("dash.click_hint"), background="white", foreground=charts.MUTED).grid(
            row=row + 1, column=0, columnspan=2, sticky="w", padx=6, pady=(0, 8)
        )

    # -- widgets ---------------------------------------------------------------------------
    def _table(self, grid, title: str, columns: tuple[str, ...], row: int, col: int) -> ttk.Treeview:
        card = tk.Frame(grid, background="white", **BORDER)
        card.grid(row=row, column=col, sticky="nsew", padx=4, pady=4)
        tk.Label(
            card, text=title, background="white", foreground=charts.INK, anchor="w", font=("TkDefaultFont", 10, "bold")
        ).pack(fill="x", padx=8, pady=(6, 0))
        empty = tk.Label(card, text="", background="white", foreground=charts.MUTED, wraplength=560, justify="left")
        empty.pack(fill="x", padx=8)
        tree = ttk.Treeview(card, columns=columns, show="headings", height=10, selectmode="browse")
        widths = {"name": 150, "stage": 90, "value": 110, "score": 50, "previous": 50, "reasons": 360}
        for c in columns:
            tree.heading(c, text=self.ctx.t(f"dash.col.{c}"))
            tree.column(
                c,
                width=widths[c],
                anchor="e" if c in ("value", "score", "previous") else "w",
                stretch=c in ("name", "reasons"),
            )
        tree.pack(fill="both", expand=True, padx=4, pady=4)
        tree.bind("<<TreeviewSelect>>", lambda e: self._open_contact(tree))
        tree.empty_label = empty  # type: ignore[attr-defined]
        return tree

    # -- loading ---------------------------------------------------------------------------
    def _pick_period(self) -> None:
        self.preset.set(self._preset_names.get(self.period_box.get(), "30d"))
        self.refresh()

    def selected_user(self) -> str | None:
        if self.user_box is None:
            return None
        index = self.user_box.current()
        return self.users[index - 1]["id"] if index > 0 and index - 1 < len(self.users) else None

    def set_user(self, user_id: str | None) -> None:
        """Pick an attendant (None: the whole team); the next refresh shows their numbers."""
        if self.user_box is None:
            return
        ids = [u["id"] for u in self.users]
        self.user_box.current(ids.index(user_id) + 1 if user_id in ids else 0)

    def refresh(self, today: date | None = None) -> None:
        first, last = period(self.preset.get(), today or date.today())
        user = self.selected_user()
        client, admin, t = self.ctx.client, self.ctx.client.is_admin, self.ctx.t
        if any(card.canvas.winfo_width() <= 1 for card in self.cards.values()):
            self.update_idletasks()  # just built: lay the cards out, so the charts are drawn at their size once
        sizes = {key: card.size() for key, card in self.cards.items()}
        dpi = next(iter(self.cards.values())).dpi()
        known_users = self.users
        self._generation += 1
        generation = self._generation
        self.busy = True
        self.message.configure(text=t("dash.loading"))
        pool, restarts = self.pool, self.pool.restarts

        def fetch() -> tuple[Dashboard, list[dict[str, Any]], dict[str, ChartImage], bool]:
            # On a worker: the API call and the model; the charts' pixels come from the chart
            # processes (this thread waits on their pipes). The Tk thread only shows the images.
            m = client.get("/metrics", **metrics_params(first, last, user))
            users = client.get("/users")["items"] if admin and not known_users else known_users
            model = build(m, first.isoformat(), last.isoformat(), user)
            images = pool.render(model, t.lang, sizes, dpi)
            return model, users, images, pool.restarts != restarts

        self.ctx.bridge.call(fetch, lambda r: self._loaded(generation, *r), lambda e: self._failed(generation, e))

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.busy = False
        self.message.configure(text=self.ctx.t("dash.error", message=getattr(error, "message", str(error))))

    def _loaded(
        self, generation: int, model: Dashboard, users: list[dict[str, Any]], images: dict[str, ChartImage],
        restarted: bool = False,
    ) -> None:
        if generation != self._generation:
            return  # an older refresh answered after a newer one was asked
        self.model = model
        self._restarted = restarted
        if self.user_box is not None and users is not self.users:
            chosen = self.selected_user()
            self.users = [u for u in users if not u.get("disabled")]
            self.user_box.configure(values=[self.ctx.t("dash.attendant.all")] + [u["username"] for u in self.users])
            self.set_user(chosen)
        self._show_kpis(model)
        self._fill_tables(model)
        self._pending = [(key, images[key]) for key in charts.CHARTS]
        self.after_idle(self._show_next, generation)

    def _show_next(self, generation: int) -> None:
        """Show one drawn chart, then yield to the event loop before the next."""
        if generation != self._generation or not self._pending:
            return
        key, image = self._pending.pop(0)
        self.cards[key].show(image)
        if self._pending:
            self.after(1, self._show_next, generation)
        else:
            self.busy = False
            m, t, lang = self.model, self.ctx.t, self.ctx.t.lang
            text = t("dash.updated", period=f"{fmt.day(m.first, lang)} – {fmt.day(m.last, lang)}")
            if self._restarted:
                text = f"{text} · {t('dash.charts_restarted')}"
            self.message.configure(text=text)
            self._resized()  # the window changed size while they were drawn: draw again at the new size

    # -- resizing --------------------------------------------------------------------------
    def _resized(self) -> None:
        """A card changed size: once the window settles, draw again the charts whose image no
        longer fits (one chart process round trip; nothing drawn on this thread)."""
        if self._resize_job is not None:
            self.after_cancel(self._resize_job)
        self._resize_job = self.after(RESIZE_SETTLE_MS, self._redraw_resized)

    def _redraw_resized(self) -> None:
        self._resize_job = None
        if self.busy or self._redrawing or self.model is None:
            return  # a refresh or a redraw is under way: each ends by checking the sizes again
        sizes = {k: c.size() for k, c in self.cards.items() if c.image is not None and not c.fits()}
        if not sizes:
            return
        model, lang, pool, generation = self.model, self.ctx.t.lang, self.pool, self._generation
        dpi = next(iter(self.cards.values())).dpi()
        self._redrawing = True

        def shown(images: dict[str, ChartImage]) -> None:
            self._redrawing = False
            if generation != self._generation:
                return  # a refresh came in between: its charts are newer
            for key, image in images.items():
                self.cards[key].show(image)
            self._resized()  # resized again meanwhile?

        def failed(error: BaseException) -> None:
            self._redrawing = False
            if generation == self._generation and not self.busy:
                message = getattr(error, "message", str(error))
                self.message.configure(text=self.ctx.t("dash.error", message=message))

        self.ctx.bridge.call(lambda: pool.render(model, lang, sizes, dpi), shown, failed)

    def _show_kpis(self, m: Dashboard) -> None:
        lang = self.ctx.t.lang
        k = m.kpis
        text = {
            "conversations": f"{k['conversations']:,}".replace(",", "." if lang == "pt_BR" else ","),
            "messages_in": f"{k['messages_in']:,}".replace(",", "." if lang == "pt_BR" else ","),
            "first_response_p50": fmt.duration(k["first_response_p50"], lang),
            "first_response_met": fmt.percent(k["first_response_met"], lang),
            "resolution_met": fmt.percent(k["resolution_met"], lang),
            "pipeline_value": fmt.money(k["pipeline_value"], lang, cents=False),
            "health_average": "—" if k["health_average"] is None else f"{k['health_average']:.0f}",
            "at_risk": str(k["at_risk"]),
        }
        for key, label in self.kpis.items():
            label.configure(text=text[key])

    def _fill_tables(self, m: Dashboard) -> None:
        t, lang = self.ctx.t, self.ctx.t.lang
        for tree, rows, empty_key in (
            (self.top_table, m.top_contacts, "top_contacts"),
            (self.risk_table, m.at_risk, "at_risk"),
        ):
            tree.delete(*tree.get_children())
            tree.empty_label.configure(text=t(m.empty[empty_key]) if empty_key in m.empty else "")
            for r in rows:
                name = r.get("name") or t("dash.unnamed")
                if tree is self.top_table:
                    values = (name, named(t, "dash.stage", r.get("stage") or ""), fmt.money(r.get("value"), lang))
                else:
                    reasons = "; ".join(reason_text(x, t) for x in r.get("reasons") or [])
                    previous = "—" if r.get("previous") is None else str(r["previous"])
                    values = (name, str(r.get("score")), previous, reasons)
                tree.insert("", "end", iid=r["contact_id"], values=values)

    # -- clicks ----------------------------------------------------------------------------
    def _open_attendant(self, ref: str) -> None:
        self.ctx.navigate("team", user_id=ref)

    def _open_contact(self, tree: ttk.Treeview) -> None:
        chosen = tree.selection()
        if chosen:
            tree.selection_remove(*chosen)  # a second click on the same row opens it again
            self.ctx.navigate("contacts", contact_id=chosen[0])

    def open_item(self, **kw) -> None:
        if "user_id" in kw:
            self.set_user(kw["user_id"])
            self.refresh()
