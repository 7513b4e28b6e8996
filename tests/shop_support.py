"""The shop fixture (tests/fixtures/shop) as retrieved passages, for the bench and llm-level tests.

Stands in for the knowledge base until it is merged: FAQ and policy split into sections, one
passage per catalogue row with its columns as ``fields``, BM25 (llm/retrieval.py) over them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from llm.retrieval import BM25Index
from llm.sources import Passage

SHOP = Path(__file__).resolve().parent / "fixtures" / "shop"
TITLES = {"faq.md": "Perguntas frequentes", "politica_de_trocas.md": "Política de trocas", "catalogo.csv": "Catálogo"}


def shop_passages() -> list[Passage]:
    out: list[Passage] = []
    for name in ("faq.md", "politica_de_trocas.md"):
        text = (SHOP / name).read_text("utf-8")
        sections = [s.strip() for s in ("\n" + text).split("\n## ") if s.strip() and not s.strip().startswith("# ")]
        if not sections:
            sections = [text.strip()]
        for i, section in enumerate(sections):
            heading, _, body = section.partition("\n")
            body = body.strip() or heading
            title = f"{TITLES[name]}: {heading.strip()}" if name == "faq.md" else TITLES[name]
            out.append(Passage(id=f"{name}#{i}", title=title, text=body if name == "faq.md" else section))
    rows = csv.DictReader(io.StringIO((SHOP / "catalogo.csv").read_text("utf-8")), delimiter=";")
    for row in rows:
        text = "; ".join(f"{k}: {v}" for k, v in row.items())
        out.append(Passage(id=f"catalogo.csv#{row['sku']}", title=TITLES["catalogo.csv"], text=text, fields=dict(row)))
    return out


class ShopIndex:
    def __init__(self) -> None:
        self.passages = shop_passages()
        self.index = BM25Index(p.title + " " + p.text for p in self.passages)

    def search(self, query: str, k: int = 4) -> list[Passage]:
        hits = self.index.search(query, k)
        return [
            Passage(p.id, p.title, p.text, score, p.fields) for i, score in hits for p in [self.passages[i]]
        ]

    def for_turns(self, messages: list[dict], k: int = 4) -> list[Passage]:
        """Passages for the customer's latest run of messages (what the service would retrieve)."""
        run: list[str] = []
        for m in reversed(messages):
            if m["direction"] == "in" and m.get("text"):
                run.append(m["text"])
            elif run:
                break
        return self.search(" ".join(reversed(run)), k) if run else []
