"""Local lexical retrieval: accent folding, a light Portuguese/English stemmer and BM25.

Pure and in memory (no SQLite, no model), so it indexes decrypted text without writing it
anywhere; used for the knowledge base and the team's past replies.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
# Words that carry no meaning for matching (folded: no accents).
STOPWORDS = frozenset(
    "a o as os um uma uns umas de da do das dos e em no na nos nas por para pra com sem que se "
    "eu voce vc tu ele ela nos eles elas meu minha seu sua isso esse essa este esta aqui ai la "
    "ja nao sim mais muito ou mas como qual quais quando onde tem ter ta e foi ser estou esta "
    "oi ola bom boa dia tarde noite obrigado obrigada por favor "
    "the a an of to in on for and or is are be it this that my your you i we with at".split()
)
# Longest first; a stem keeps at least three letters.
_SUFFIXES = sorted(
    "amentos imentos amento imento adoras adores acoes ações ancias encias mente idade idades "
    "ismos istas ismo ista avel ivel oso osa osos osas ante antes icos icas ico ica ados adas ado ada "
    "idos idas ido ida ando endo indo ar er ir am em ou ei es as os s a o e ing ed ly".split(),
    key=len,
    reverse=True,
)


def fold(text: str) -> str:
    """Lower case without accents: "Promoção" → "promocao"."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def stem(word: str) -> str:
    if word.isdigit() or len(word) <= 3:
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS]


class BM25Index:
    """Okapi BM25 over short documents; ``search`` returns (doc index, score), best first."""

    def __init__(self, docs: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.doc_terms: list[Counter[str]] = []
        self.postings: dict[str, list[int]] = {}
        for i, doc in enumerate(docs):
            tf = Counter(terms(doc))
            self.doc_terms.append(tf)
            for t in tf:
                self.postings.setdefault(t, []).append(i)
        n = len(self.doc_terms)
        self.lengths = [sum(tf.values()) for tf in self.doc_terms]
        self.avg_len = (sum(self.lengths) / n) if n else 0.0
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def __len__(self) -> int:
        return len(self.doc_terms)

    def search(self, query: str, k: int = 5) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for t in set(terms(query)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.postings[t]:
                tf = self.doc_terms[i][t]
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg_len or 1))
                scores[i] = scores.get(i, 0.0) + idf * tf * (self.k1 + 1) / norm
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
