"""The knowledge tab (admins): the shop's FAQ, policies and catalogues that suggestions draw on.

List the documents, add pasted text or a catalogue CSV, upload a file (TXT, Markdown, PDF,
CSV), remove one, and try a search as a customer would write it: the passages shown are the
ones an analysis would retrieve (`GET /knowledge/search`).
"""

from __future__ import annotations

import tkinter as tk
from datetime import datetime
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from typing import Any

from desktop.ui import format as fmt
from desktop.ui.api_client import ApiError
from desktop.ui.i18n import Strings
from desktop.ui.tabs import Tab, TabContext

PREVIEW_CHARS = 140


# -- model: API data in, rows out (no Tk) ---------------------------------------------------------
def document_rows(items: list[dict[str, Any]], t: Strings) -> list[tuple[str, tuple[str, str, str, str]]]:
    """(id, (title, kind, passages, updated day)) per document, in the API's order."""
    rows = []
    for d in items:
        updated = datetime.fromtimestamp(d.get("updated_at") or 0).date()  # the machine's own day
        rows.append(
            (d["id"], (d["title"], t(f"knowledge.kind.{d['kind']}"), str(d["passages"]), fmt.day(updated, t.lang)))
        )
    return rows


def passages(n: int, t: Strings) -> str:
    """ "1 trecho", "5 trechos"."""
    return fmt.plural(n, t("knowledge.passage.one"), t("knowledge.passage.many"))


def summary_line(items: list[dict[str, Any]], t: Strings) -> str:
    if not items:
        return t("knowledge.empty")
    docs = fmt.plural(len(items), t("knowledge.document.one"), t("knowledge.document.many"))
    return t("knowledge.count", docs=docs, passages=passages(sum(d["passages"] for d in items), t))


def hit_rows(items: list[dict[str, Any]], t: Strings) -> list[tuple[str, str, str]]:
    """(source, relevance, passage preview) per search hit, best first."""
    out = []
    for h in items:
        text = " ".join(h["text"].split())
        if len(text) > PREVIEW_CHARS:
            text = text[: PREVIEW_CHARS - 1] + "…"
        score = f"{h['score']:.2f}".replace(".", "," if t.lang == "pt_BR" else ".")
        out.append((h["title"], score, text))
    return out


def new_document(title: str, content: str, as_csv: bool, t: Strings) -> dict[str, str]:
    """The POST body, or ValueError with the message to show."""
    title, content = title.strip(), content.strip()
    if not title:
        raise ValueError(t("knowledge.error.title"))
    if not content:
        raise ValueError(t("knowledge.error.content"))
    return {"title": title, "csv" if as_csv else "text": content + "\n"}


# -- view ------------------------------------------------------------------------------------------
class KnowledgeTab(Tab):
    name = "knowledge"
    title_key = "knowledge.title"

    def __init__(self, master, ctx: TabContext) -> None:
        super().__init__(master, ctx)
        t = ctx.t
        self.items: list[dict[str, Any]] = []
        self.hits: list[dict[str, Any]] = []
        self.loading = False
        self.columnconfigure(0, weight=3)
        self.columnconfigure(1, weight=2)
        self.rowconfigure(1, weight=1)
        self.rowconfigure(3, weight=1)

        # Documents
        ttk.Label(self, text=t("knowledge.documents"), font=("TkDefaultFont", 11, "bold")).grid(
            row=0, column=0, sticky="w"
        )
        docs = ttk.Frame(self)
        docs.grid(row=1, column=0, sticky="nsew", padx=(0, 8))
        docs.columnconfigure(0, weight=1)
        docs.rowconfigure(0, weight=1)
        cols = ("title", "kind", "passages", "updated")
        self.docs = ttk.Treeview(docs, columns=cols, show="headings", height=8, selectmode="browse")
        for c, w in zip(cols, (260, 90, 70, 90), strict=True):
            self.docs.heading(c, text=t(f"knowledge.col.{c}"))
            self.docs.column(c, width=w, stretch=c == "title", anchor="w" if c in ("title", "kind") else "e")
        self.docs.grid(row=0, column=0, sticky="nsew")
        bar = ttk.Frame(docs)
        bar.grid(row=1, column=0, sticky="ew", pady=(4, 0))
        self.summary = ttk.Label(bar, text=t("state.loading"))
        self.summary.pack(side="left")
        self.remove_btn = ttk.Button(bar, text=t("knowledge.remove"), command=self._remove)
        self.remove_btn.pack(side="right")
        self.upload_btn = ttk.Button(bar, text=t("knowledge.add.file"), command=self._upload)
        self.upload_btn.pack(side="right", padx=4)

        # Add pasted text or CSV
        ttk.Label(self, text=t("knowledge.add"), font=("TkDefaultFont", 11, "bold")).grid(row=0, column=1, sticky="w")
        form = ttk.Frame(self)
        form.grid(row=1, column=1, sticky="nsew")
        form.columnconfigure(1, weight=1)
        form.rowconfigure(2, weight=1)
        ttk.Label(form, text=t("knowledge.add.title")).grid(row=0, column=0, sticky="w")
        self.title_var = tk.StringVar()
        ttk.Entry(form, textvariable=self.title_var).grid(row=0, column=1, sticky="ew")
        self.kind_var = tk.StringVar(value="text")
        kinds = ttk.Frame(form)
        kinds.grid(row=1, column=0, columnspan=2, sticky="w", pady=2)
        ttk.Radiobutton(kinds, text=t("knowledge.add.text"), value="text", variable=self.kind_var).pack(side="left")
        ttk.Radiobutton(kinds, text=t("knowledge.add.csv"), value="csv", variable=self.kind_var).pack(
            side="left", padx=8
        )
        self.content = tk.Text(form, height=8, width=40, wrap="word", undo=True)
        self.content.grid(row=2, column=0, columnspan=2, sticky="nsew")
        self.save_btn = ttk.Button(form, text=t("knowledge.add.save"), command=self._save)
        self.save_btn.grid(row=3, column=1, sticky="e", pady=(4, 0))

        # Search preview
        ttk.Label(self, text=t("knowledge.search"), font=("TkDefaultFont", 11, "bold")).grid(
            row=2, column=0, columnspan=2, sticky="w", pady=(10, 0)
        )
        search = ttk.Frame(self)
        search.grid(row=3, column=0, columnspan=2, sticky="nsew")
        search.columnconfigure(0, weight=1)
        search.rowconfigure(2, weight=1)
        ttk.Label(search, text=t("knowledge.search.hint")).grid(row=0, column=0, columnspan=2, sticky="w")
        self.query_var = tk.StringVar()
        query = ttk.Entry(search, textvariable=self.query_var)
        query.grid(row=1, column=0, sticky="ew", pady=2)
        query.bind("<Return>", lambda _e: self._search())
        self.search_btn = ttk.Button(search, text=t("knowledge.search.go"), command=self._search)
        self.search_btn.grid(row=1, column=1, padx=(4, 0))
        hcols = ("source", "score", "text")
        self.results = ttk.Treeview(search, columns=hcols, show="headings", height=5)
        for c, w in zip(hcols, (170, 100, 700), strict=True):
            self.results.heading(c, text=t(f"knowledge.col.{c}"))
            self.results.column(c, width=w, stretch=c == "text", anchor="e" if c == "score" else "w")
        self.results.grid(row=2, column=0, columnspan=2, sticky="nsew")

        self.message = ttk.Label(self, text="", foreground="#a33")
        self.message.grid(row=4, column=0, columnspan=2, sticky="w", pady=(6, 0))

    # -- data ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.loading = True
        self.summary.configure(text=self.ctx.t("state.loading"))
        self.ctx.bridge.call(lambda: self.ctx.client.get("/knowledge"), self._show_documents, self._failed)

    def _show_documents(self, body: dict[str, Any]) -> None:
        self.loading = False
        self.items = body["items"]
        self.docs.delete(*self.docs.get_children())
        for doc_id, values in document_rows(self.items, self.ctx.t):
            self.docs.insert("", "end", iid=doc_id, values=values)
        self.summary.configure(text=summary_line(self.items, self.ctx.t))

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        if isinstance(exc, ApiError) and exc.status == 403:
            text = self.ctx.t("knowledge.error.admin")
        elif isinstance(exc, ApiError):
            text = exc.message
        else:
            text = str(exc)
        self.message.configure(text=text, foreground="#a33")

    def _note(self, text: str) -> None:
        self.message.configure(text=text, foreground="#2a6")

    def _save(self) -> None:
        t = self.ctx.t
        try:
            body = new_document(self.title_var.get(), self.content.get("1.0", "end"), self.kind_var.get() == "csv", t)
        except ValueError as e:
            self.message.configure(text=str(e), foreground="#a33")
            return

        def done(doc: dict[str, Any]) -> None:
            self.title_var.set("")
            self.content.delete("1.0", "end")
            self._note(t("knowledge.saved", title=doc["title"], passages=passages(doc["passages"], t)))
            self.refresh()

        self.ctx.bridge.call(lambda: self.ctx.client.post("/knowledge", body), done, self._failed)

    def _upload(self) -> None:
        path = filedialog.askopenfilename(
            parent=self, filetypes=[("TXT, Markdown, PDF, CSV", "*.txt *.md *.markdown *.pdf *.csv")]
        )
        if path:
            self.upload_file(Path(path))

    def upload_file(self, path: Path) -> None:
        """Send a file as it is: the server reads its text (PDF included)."""
        title = self.title_var.get().strip()
        fields = {"title": title} if title else {}

        def send() -> dict[str, Any]:
            return self.ctx.client.upload("POST", "/knowledge", path.name, path.read_bytes(), fields)

        def done(doc: dict[str, Any]) -> None:
            self.title_var.set("")
            self._note(
                self.ctx.t("knowledge.saved", title=doc["title"], passages=passages(doc["passages"], self.ctx.t))
            )
            self.refresh()

        self.ctx.bridge.call(send, done, self._failed)

    def _remove(self) -> None:
        sel = self.docs.selection()
        doc = next((d for d in self.items if sel and d["id"] == sel[0]), None)
        if doc is None:
            return
        t = self.ctx.t
        if messagebox.askyesno(
            t("knowledge.remove"),
            t("knowledge.remove.confirm", title=doc["title"], passages=passages(doc["passages"], t)),
            parent=self,
        ):
            self.remove(doc)

    def remove(self, doc: dict[str, Any]) -> None:
        def done(_none: Any) -> None:
            self._note(self.ctx.t("knowledge.removed", title=doc["title"]))
            self.refresh()

        self.ctx.bridge.call(lambda: self.ctx.client.delete(f"/knowledge/{doc['id']}"), done, self._failed)

    def _search(self) -> None:
        q = self.query_var.get().strip()
        if not q:
            return
        self.ctx.bridge.call(lambda: self.ctx.client.get("/knowledge/search", q=q), self._show_hits, self._failed)

    def _show_hits(self, body: dict[str, Any]) -> None:
        self.hits = body["items"]
        self.results.delete(*self.results.get_children())
        for row in hit_rows(self.hits, self.ctx.t):
            self.results.insert("", "end", values=row)
        if not self.hits:
            self.message.configure(text=self.ctx.t("knowledge.no_hits"), foreground="#666")


View = KnowledgeTab  # the window builds each tab from its module's `View`
