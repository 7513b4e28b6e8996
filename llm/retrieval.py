"""Local lexical retrieval: accent folding, a light Portuguese/English stemmer and BM25.

Pure and in memory (no SQLite, no model; numpy for scoring), so it indexes decrypted text without writing it
anywhere; used for the knowledge base and the team's past replies.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

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
    """Okapi BM25 over short documents; ``search`` returns (doc index, score), best first.

    Documents can be added and removed after construction (the team's replies change with every
    capture): idf is computed per query from the live posting lists, so nothing is rebuilt.
    A removed document's index is never reused. Scoring runs on numpy arrays of each query
    term's postings, cached until a document with that term comes or goes (a common term of
    10,000 documents would otherwise cost milliseconds of Python per query).
    """

    def __init__(self, docs: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.doc_terms: list[Counter[str] | None] = []
        self.postings: dict[str, dict[int, int]] = {}
        self.lengths: list[int] = []
        self._total_len = 0
        self._live = 0
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._norm: np.ndarray | None = None  # k1 * (1 - b + b * len / avg) per document
        for doc in docs:
            self.add(doc)

    def __len__(self) -> int:
        return self._live

    @property
    def avg_len(self) -> float:
        return self._total_len / self._live if self._live else 0.0

    def term_idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self._live - df + 0.5) / (df + 0.5)) if df else 0.0

    @property
    def idf(self) -> dict[str, float]:
        """Every indexed term's idf as of now (computed on demand)."""
        return {t: self.term_idf(t) for t in self.postings}

    def add(self, doc: str) -> int:
        """Index one more document; returns its index."""
        i = len(self.doc_terms)
        tf = Counter(terms(doc))
        self.doc_terms.append(tf)
        n = sum(tf.values())
        self.lengths.append(n)
        self._total_len += n
        self._live += 1
        for t, c in tf.items():
            self.postings.setdefault(t, {})[i] = c
            self._arrays.pop(t, None)
        self._norm = None
        return i

    def remove(self, i: int) -> None:
        tf = self.doc_terms[i]
        if tf is None:
            return
        for t in tf:
            posting = self.postings[t]
            del posting[i]
            if not posting:
                del self.postings[t]
            self._arrays.pop(t, None)
        self._total_len -= self.lengths[i]
        self._live -= 1
        self.doc_terms[i] = None
        self._norm = None

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        arrays = self._arrays.get(term)
        if arrays is None:
            posting = self.postings.get(term)
            if not posting:
                return None
            ids = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tfs = np.fromiter(posting.values(), dtype=np.float64, count=len(posting))
            arrays = self._arrays[term] = (ids, tfs)
        return arrays

    def search(self, query: str, k: int = 5, keep: Callable[[int], bool] | None = None) -> list[tuple[int, float]]:
        """The k best documents for ``query``; ``keep`` filters candidates (e.g. another chat's only)."""
        hits = [(t, a) for t in set(terms(query)) if (a := self._term_arrays(t)) is not None]
        if not hits or k <= 0:
            return []
        if self._norm is None:
            lengths = np.asarray(self.lengths, dtype=np.float64)
            self._norm = self.k1 * (1 - self.b + self.b * lengths / (self.avg_len or 1))
        scores = np.zeros(len(self.doc_terms))
        for t, (ids, tfs) in hits:
            scores[ids] += self.term_idf(t) * tfs * (self.k1 + 1) / (tfs + self._norm[ids])
        found = np.flatnonzero(scores)
        if keep is None and len(found) > k:
            found = found[np.argpartition(-scores[found], k - 1)[:k]]
        # Best first; equal scores by index, so results are stable.
        order = found[np.lexsort((found, -scores[found]))]
        out: list[tuple[int, float]] = []
        for i in order.tolist():
            if keep is None or keep(i):
                out.append((i, float(scores[i])))
                if len(out) == k:
                    break
        return out
