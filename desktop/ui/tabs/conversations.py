"""Conversations tab, the view: the list (sentiment, intent, status, waiting time) and one
conversation opened — its messages, analysis history and suggestions — with status change,
re-analysis and label corrections. Rows come from ``conversations_model``; every API call goes
through the bridge."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from desktop.pipeline import STATUSES
from desktop.ui import conversations_model as model
from desktop.ui.api_client import ApiError
from desktop.ui.tab_state import Busy, error_text
from desktop.ui.tabs import Tab, TabContext

PAGE = 200
MAX_ROWS = 2000  # "Load more" beyond this many would make the list itself the slow part
NEGATIVE_BG = "#fde2e1"
DETAIL_WIDTH = 640


class View(Tab):
    name = "conversations"
    title_key = "conv.title"

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        self.t = ctx.t
        self.lang = ctx.t.lang
        self.items: list[dict[str, Any]] = []
        self.rows: list[model.ConversationRow] = []
        self.next_cursor: str | None = None
        self.waiting: dict[str, float] = {}
        self.loaded = False
        self.current: dict[str, Any] | None = None
        self.insight: dict[str, Any] | None = None
        self._want: str | None = None
        self._build()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        t = self.t
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        ttk.Label(bar, text=t("conv.search")).pack(side="left")
        self.query = tk.StringVar()
        self.query.trace_add("write", lambda *_: self._render())
        ttk.Entry(bar, textvariable=self.query, width=22).pack(side="left", padx=(4, 12))
        ttk.Label(bar, text=t("conv.filter.status")).pack(side="left")
        self.status_filter = ttk.Combobox(bar, state="readonly", width=12,
                                          values=[t("conv.filter.any")] + [model.status_text(s, t) for s in STATUSES])
        self.status_filter.current(0)
        self.status_filter.pack(side="left", padx=(4, 10))
        self.status_filter.bind("<<ComboboxSelected>>", lambda _e: self._render())
        ttk.Label(bar, text=t("conv.filter.sentiment")).pack(side="left")
        self.sentiment_filter = ttk.Combobox(bar, state="readonly", width=12, values=[t("conv.filter.any")]
                                             + [model.sentiment_text(s, t) for s in model.SENTIMENTS])
        self.sentiment_filter.current(0)
        self.sentiment_filter.pack(side="left", padx=(4, 10))
        self.sentiment_filter.bind("<<ComboboxSelected>>", lambda _e: self._render())
        row2 = ttk.Frame(self)
        row2.pack(fill="x", pady=(6, 0))
        self.waiting_only = tk.BooleanVar(value=False)
        ttk.Checkbutton(row2, text=t("conv.filter.waiting"), variable=self.waiting_only,
                        command=self._render).pack(side="left")
        self.by_wait = tk.BooleanVar(value=False)
        ttk.Checkbutton(row2, text=t("conv.sort.waiting"), variable=self.by_wait,
                        command=self._render).pack(side="left", padx=12)
        ttk.Button(bar, text=t("conv.refresh"), command=self.refresh).pack(side="right")
        self.more_button = ttk.Button(bar, text=t("conv.more"), command=self.load_more, state="disabled")
        self.more_button.pack(side="right", padx=4)

        self.busy = Busy(self)
        self.busy.frame.pack(fill="x", pady=(6, 4))

        body = ttk.Frame(self)
        body.pack(fill="both", expand=True)
        self.detail = ttk.Frame(body, padding=(12, 0, 0, 0), width=DETAIL_WIDTH)
        self.detail.pack(side="right", fill="y")
        self.detail.pack_propagate(False)
        left = ttk.Frame(body)
        left.pack(side="left", fill="both", expand=True)
        self.count_label = ttk.Label(left, text="")
        self.count_label.pack(anchor="w")
        holder = ttk.Frame(left)
        holder.pack(fill="both", expand=True)
        self.table = ttk.Treeview(holder, columns=model.COLUMNS, show="headings", selectmode="browse")
        widths = {"title": 125, "status": 75, "sentiment": 90, "intent": 140, "waiting": 75, "messages": 40,
                  "last": 140}
        for col in model.COLUMNS:
            self.table.heading(col, text=t(f"conv.col.{col}"))
            self.table.column(col, width=widths[col], anchor="e" if col in ("waiting", "messages") else "w",
                              stretch=col == "title")
        self.table.tag_configure("negative", background=NEGATIVE_BG)
        scroll = ttk.Scrollbar(holder, orient="vertical", command=self.table.yview)
        self.table.configure(yscrollcommand=scroll.set)
        self.table.pack(side="left", fill="both", expand=True)
        scroll.pack(side="right", fill="y")
        self.table.bind("<<TreeviewSelect>>", self._selected)
        self.empty_label = ttk.Label(left, text="", foreground="#555", wraplength=600, justify="left")
        self.empty_label.pack(anchor="w", pady=4)

        self._build_detail()

    def _build_detail(self) -> None:
        t = self.t
        d = self.detail
        self.detail_title = ttk.Label(d, text=t("conv.none_open"), font=("TkDefaultFont", 13, "bold"),
                                      wraplength=DETAIL_WIDTH - 40, justify="left")
        self.detail_title.pack(anchor="w")
        head = ttk.Frame(d)
        head.pack(fill="x")
        self.detail_sub = ttk.Label(head, text="", foreground="#555")
        self.detail_sub.pack(side="left")
        self.contact_button = ttk.Button(head, text=t("conv.open_contact"), command=self._open_contact)
        self.opened = ttk.Frame(d)
        o = self.opened
        actions = ttk.Frame(o)
        actions.pack(fill="x", pady=(6, 2))
        ttk.Label(actions, text=t("conv.status.label")).pack(side="left")
        self.status_box = ttk.Combobox(actions, state="readonly", width=12,
                                       values=[model.status_text(s, t) for s in STATUSES])
        self.status_box.pack(side="left", padx=4)
        self.status_button = ttk.Button(actions, text=t("conv.status.apply"), command=self.change_status)
        self.status_button.pack(side="left")
        self.analyze_button = ttk.Button(actions, text=t("conv.analyze"), command=self.analyze)
        self.analyze_button.pack(side="left", padx=(12, 0))
        correct = ttk.Frame(o)
        correct.pack(fill="x", pady=2)
        ttk.Label(correct, text=t("conv.correct.label")).pack(side="left")
        self.sentiment_box = ttk.Combobox(correct, state="readonly", width=12,
                                          values=[model.sentiment_text(s, t) for s in model.SENTIMENTS])
        self.sentiment_box.pack(side="left", padx=4)
        self.intent_box = ttk.Combobox(correct, state="readonly", width=19,
                                       values=[model.intent_text(i, t) for i in model.INTENTS])
        self.intent_box.pack(side="left", padx=4)
        self.correct_button = ttk.Button(correct, text=t("conv.correct"), command=self.correct_labels)
        self.correct_button.pack(side="left")
        self.detail_message = ttk.Label(o, text="", wraplength=DETAIL_WIDTH - 30, justify="left")
        self.detail_message.pack(anchor="w", pady=(2, 4))
        self.pages = ttk.Notebook(o)
        self.pages.pack(fill="both", expand=True)

        msg_page = ttk.Frame(self.pages)
        self.pages.add(msg_page, text=t("conv.tab.messages"))
        self.messages = tk.Text(msg_page, wrap="word", height=18, relief="flat", padx=8, pady=6,
                                background="#f4f1ec", font="TkDefaultFont")
        mscroll = ttk.Scrollbar(msg_page, orient="vertical", command=self.messages.yview)
        self.messages.configure(yscrollcommand=mscroll.set)
        self.messages.pack(side="left", fill="both", expand=True)
        mscroll.pack(side="right", fill="y")
        self.messages.tag_configure("header", foreground="#666", font=("TkDefaultFont", 8))
        self.messages.tag_configure("in", lmargin1=4, lmargin2=4, rmargin=120, background="#ffffff",
                                    spacing3=8)
        self.messages.tag_configure("out", lmargin1=120, lmargin2=120, rmargin=4, background="#d9fdd3",
                                    spacing3=8)
        self.messages.tag_configure("system", justify="center", foreground="#777", spacing3=8)
        self.messages.tag_configure("header_out", lmargin1=120, foreground="#666", font=("TkDefaultFont", 8))
        self.messages.configure(state="disabled")

        ins_page = ttk.Frame(self.pages, padding=6)
        self.pages.add(ins_page, text=t("conv.tab.insights"))
        ttk.Label(ins_page, text=t("conv.insight.latest"), font=("TkDefaultFont", 10, "bold")).pack(anchor="w")
        self.summary = ttk.Label(ins_page, text="", wraplength=DETAIL_WIDTH - 40, justify="left")
        self.summary.pack(anchor="w", pady=(2, 8))
        hcols = ("when", "sentiment", "score", "intent", "confidence")
        self.history = ttk.Treeview(ins_page, columns=hcols, show="headings", height=10)
        for col, w in zip(hcols, (120, 100, 60, 150, 80), strict=True):
            self.history.heading(col, text=t(f"conv.history.{col}"))
            self.history.column(col, width=w, anchor="e" if col in ("score", "confidence") else "w")
        self.history.pack(fill="both", expand=True)

        sug_page = ttk.Frame(self.pages, padding=6)
        self.pages.add(sug_page, text=t("conv.tab.suggestions"))
        self.suggestions = ttk.Frame(sug_page)
        self.suggestions.pack(fill="both", expand=True)

    # -- list ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._load(None)

    def load_more(self) -> None:
        if self.next_cursor:
            self._load(self.next_cursor)

    def _load(self, cursor: str | None) -> None:
        client = self.ctx.client

        def load() -> tuple[dict, dict[str, float]]:
            page = client.get("/conversations", limit=PAGE, cursor=cursor)
            return page, self._queue_waits(page["items"])

        self.busy.start()
        self.busy.say(self.t("state.loading"))
        self.ctx.bridge.call(load, lambda r: self._loaded(cursor, r), self._failed)

    def _queue_waits(self, items: list[dict]) -> dict[str, float]:
        """Waiting times from GET /queue when the list does not carry them (worker thread).
        The queue is per attendant (admins pass ?user=): the owners seen in this page are asked."""
        if all("waiting_seconds" in c for c in items):
            return {}
        client = self.ctx.client
        users = {c.get("owner") for c in items if c.get("owner")} if client.is_admin else {None}
        out: dict[str, float] = {}
        for user in users:
            try:
                queue = client.get("/queue", user=user)
            except ApiError as e:
                if e.status in (0, 401):
                    raise
                return out  # a server without /queue: the column stays "—"
            for q in queue.get("items") or []:
                if q.get("waiting_seconds") is not None:
                    out[q["conversation_id"]] = q["waiting_seconds"]
        return out

    def _loaded(self, cursor: str | None, result: tuple[dict, dict[str, float]]) -> None:
        self.busy.stop()
        self.busy.say("")
        page, waits = result
        if cursor is None:
            self.items, self.waiting = [], {}
        self.items += page["items"]
        self.waiting |= waits
        self.next_cursor = page.get("next_cursor") if len(self.items) < MAX_ROWS else None
        self.more_button.configure(state="normal" if self.next_cursor else "disabled")
        self.rows = model.conversation_rows(self.items, self.t, self.lang, self.waiting)
        self.loaded = True
        self._render()
        want, self._want = self._want, None
        if want:
            self.open_item(conversation_id=want)

    def _failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.busy.say(error_text(exc, self.t), error=True)

    def _render(self) -> None:
        si, se = self.status_filter.current(), self.sentiment_filter.current()
        shown = model.filter_rows(
            self.rows, self.query.get(), STATUSES[si - 1] if si > 0 else "",
            model.SENTIMENTS[se - 1] if se > 0 else "", self.waiting_only.get())
        shown = model.sort_rows(shown, "waiting" if self.by_wait.get() else "")
        self.table.delete(*self.table.get_children())
        for r in shown:
            self.table.insert("", "end", iid=r.id, values=r.cells,
                              tags=("negative",) if r.sentiment == "negative" else ())
        self.count_label.configure(text=self.t("conv.count", shown=len(shown), total=len(self.rows)))
        if not self.rows:
            self.empty_label.configure(text=self.t("conv.empty") if self.loaded else "")
        else:
            self.empty_label.configure(text="" if shown else self.t("conv.empty_filtered"))
        if self.current and self.table.exists(self.current["id"]):
            self.table.selection_set(self.current["id"])

    def _selected(self, _event=None) -> None:
        sel = self.table.selection()
        if sel and (not self.current or self.current["id"] != sel[0]):
            self.open_item(conversation_id=sel[0])

    # -- one conversation ----------------------------------------------------------------------
    def open_item(self, **kw) -> None:
        cid = kw.get("conversation_id")
        if not cid:
            return
        if not self.loaded:
            self._want = cid
            if not self.busy.active:
                self.refresh()
            return
        client = self.ctx.client

        def load() -> tuple[dict, dict, dict | None]:
            conv = client.get(f"/conversations/{cid}")
            history = client.get(f"/conversations/{cid}/insights/history")
            try:
                insight = client.get(f"/conversations/{cid}/insights")
            except ApiError as e:
                if e.status != 404:
                    raise
                insight = None  # never analysed
            return conv, history, insight

        self.busy.start()
        self.ctx.bridge.call(load, self._opened, self._failed)

    def _opened(self, result: tuple[dict, dict, dict | None]) -> None:
        self.busy.stop()
        conv, history, insight = result
        t = self.t
        self.current, self.insight = conv, insight
        contact = conv.get("contact") or {}
        self.detail_title.configure(text=conv.get("title") or contact.get("name") or t("contacts.unnamed"))
        sub = [contact.get("phone") or "", t(f"contacts.stage.{contact['stage']}") if contact.get("stage") else ""]
        self.detail_sub.configure(text=" · ".join(s for s in sub if s))
        self.status_box.current(STATUSES.index(conv.get("status", "open")))
        self.detail_message.configure(text="")
        self._fill_messages(model.message_lines(conv, t, self.lang))
        self._fill_insight(history, insight)
        self.contact_button.pack(side="right")
        self.opened.pack(fill="both", expand=True)
        if self.table.exists(conv["id"]):
            self.table.selection_set(conv["id"])
            self.table.see(conv["id"])

    def _fill_messages(self, lines: list[model.MessageLine]) -> None:
        m = self.messages
        m.configure(state="normal")
        m.delete("1.0", "end")
        for line in lines:
            if line.header:
                m.insert("end", line.header + "\n", ("header_out",) if line.who == "out" else ("header",))
            m.insert("end", (line.text or " ") + "\n", (line.who,))
        m.configure(state="disabled")
        m.see("end")

    def _fill_insight(self, history: dict, insight: dict | None) -> None:
        t = self.t
        summary, suggestions = model.insight_summary(insight, t)
        self.summary.configure(text=summary)
        self.history.delete(*self.history.get_children())
        for row in model.history_rows(history, t, self.lang):
            self.history.insert("", "end", values=row)
        for child in self.suggestions.winfo_children():
            child.destroy()
        if not suggestions:
            ttk.Label(self.suggestions, text=t("conv.suggestions.none"), foreground="#555").pack(anchor="w")
        sources = model.suggestion_sources(insight, t)
        for i, (text, source) in enumerate(zip(suggestions, sources, strict=True), start=1):
            box = ttk.LabelFrame(self.suggestions, text=str(i), padding=6)
            box.pack(fill="x", pady=3)
            ttk.Label(box, text=text, wraplength=DETAIL_WIDTH - 40, justify="left").pack(anchor="w")
            if source:
                ttk.Label(box, text=source, foreground="#555").pack(anchor="w")
        ins = insight or {}
        s = (ins.get("sentiment") or {}).get("label")
        i = (ins.get("intent") or {}).get("label")
        self.sentiment_box.set(model.sentiment_text(s, t) if s else "")
        self.intent_box.set(model.intent_text(i, t) if i else "")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.detail_message.configure(text=text, foreground="#b3261e" if error else "#1b6e3a")

    def _action_failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self._say(error_text(exc, self.t), error=True)

    # -- actions ------------------------------------------------------------------------------------
    def change_status(self) -> None:
        if not self.current or self.status_box.current() < 0:
            return
        status = STATUSES[self.status_box.current()]
        client, cid = self.ctx.client, self.current["id"]
        self.busy.start()
        self.ctx.bridge.call(lambda: client.patch(f"/conversations/{cid}", {"status": status}),
                             self._status_changed, self._action_failed)

    def _status_changed(self, out: dict) -> None:
        self.busy.stop()
        for item in self.items:
            if item["id"] == out["id"]:
                item["status"] = out["status"]
                if out["status"] == "resolved":
                    item["waiting_seconds"] = None  # as the server lists it: nobody waits on a resolved chat
        if self.current and self.current["id"] == out["id"]:
            self.current["status"] = out["status"]
        self.rows = model.conversation_rows(self.items, self.t, self.lang, self.waiting)
        self._render()
        self._say(self.t("conv.status.changed", status=model.status_text(out["status"], self.t)))

    def analyze(self) -> None:
        if not self.current:
            return
        client, cid = self.ctx.client, self.current["id"]
        self.busy.start()
        self.ctx.bridge.call(lambda: client.post(f"/conversations/{cid}/analyze"), self._analysis_queued,
                             self._action_failed)

    def _analysis_queued(self, out: dict) -> None:
        self.busy.stop()
        if out.get("analysis") == "queued":
            self._say(self.t("conv.analyze.queued"))
        else:
            self._say(self.t("conv.analyze.unavailable"), error=True)

    def correct_labels(self) -> None:
        if not self.current:
            return
        si, ii = self.sentiment_box.current(), self.intent_box.current()
        body = model.label_correction(self.insight, model.SENTIMENTS[si] if si >= 0 else "",
                                      model.INTENTS[ii] if ii >= 0 else "")
        if not body:
            self._say(self.t("conv.correct.nothing"), error=True)
            return
        client, cid = self.ctx.client, self.current["id"]
        self.busy.start()
        self.ctx.bridge.call(lambda: client.post(f"/conversations/{cid}/labels", body),
                             lambda _r: self._corrected(body), self._action_failed)

    def _corrected(self, body: dict[str, str]) -> None:
        self.busy.stop()
        t = self.t
        labels = ", ".join(
            model.sentiment_text(v, t) if k == "sentiment" else model.intent_text(v, t) for k, v in body.items())
        self._say(t("conv.correct.done", labels=labels))
        # The boxes keep the corrected labels (a second click changes nothing); the list keeps the
        # analysis's own labels, as the server lists them.
        ins = self.insight = dict(self.insight or {})
        for key, value in body.items():
            ins[key] = {**(ins.get(key) or {}), "label": value}

    def _open_contact(self) -> None:
        if self.current and (self.current.get("contact") or {}).get("id"):
            self.ctx.navigate("contacts", contact_id=self.current["contact"]["id"])
