"""Phrase matching over the hand-written lexicons: normalisation, negation, fixed features.

Pure stdlib. ``lexicon_features(text, lang)`` returns the fixed-length vector (names in
``LEXICON_FEATURE_NAMES``) that both the out-of-the-box rules and the trained adapter use.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata

from . import lexicon_en, lexicon_pt
from .prompts import INTENTS, SENTIMENTS  # the label sets are defined once, with the prompts

__all__ = [
    "INTENTS",
    "SENTIMENTS",
    "LEXICON_FEATURE_NAMES",
    "lexicon_features",
    "normalise",
    "rule_intent",
    "rule_sentiment",
]


LEXICON_FEATURE_NAMES = ["pos", "neg", "mixed", "n_pos", "n_neg", "negated", "log_words", "question", "short"] + [
    "int_" + name for name in INTENTS[:-1]
]

_WORD = re.compile(r"[a-z0-9]+|[?!]|:\)|:-\)|:\(")


def normalise(text: str) -> str:
    """Lower case, strip accents, keep letters/digits and a few signs, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'", "").replace("\u2019", "")
    return " ".join(_WORD.findall(text))


class _Matcher:
    """One alternation of all phrases, longest first; group index -> phrase entry."""

    def __init__(self, entries: dict[str, float]):
        items = []
        for phrase, weight in entries.items():
            star = phrase.endswith("*")
            norm = normalise(phrase.rstrip("*")) + ("*" if star else "")
            items.append((norm, weight))
        items.sort(key=lambda kv: -len(kv[0]))
        parts = []
        for norm, _ in items:
            body = re.escape(norm.rstrip("*")).replace(r"\ ", " ")
            if norm.endswith("*"):
                body += r"[a-z0-9]*"
            parts.append("(" + body + ")")
        self.items = items
        self.regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")

    def find(self, norm_text: str):
        for m in self.regex.finditer(norm_text):
            phrase, weight = self.items[m.lastindex - 1]
            yield m.start(), m.end(), phrase, weight


@functools.cache
def _lexicon(lang: str):
    mod = lexicon_pt if lang == "pt" else lexicon_en
    return {
        "sent": _Matcher(mod.SENTIMENT),
        "mixed": _Matcher(mod.MIXED),
        "intent": {k: _Matcher(v) for k, v in mod.INTENT.items()},
        "negators": {normalise(w) for w in mod.NEGATORS},
        "boost": {normalise(w) for w in mod.INTENSIFIERS},
    }


def lexicon_features(text: str, lang: str) -> list[float]:
    lex = _lexicon("pt" if lang == "pt" else "en")
    norm = normalise(text)
    words = norm.split()
    pos = neg = 0.0
    n_pos = n_neg = negated = 0
    for start, _end, phrase, weight in lex["sent"].find(norm):
        if not weight:
            continue
        before = norm[:start].split()[-3:]
        first = phrase.split()[0]
        if first not in lex["negators"] and any(w in lex["negators"] for w in before):
            weight = -0.7 * weight  # "nao gostei" style flip when not already a phrase
            negated += 1
        if before and before[-1] in lex["boost"]:
            weight *= 1.3
        if weight > 0:
            pos += weight
            n_pos += 1
        else:
            neg -= weight
            n_neg += 1
    mixed = sum(w for *_rest, w in lex["mixed"].find(norm))
    intents = []
    for name in INTENTS[:-1]:
        intents.append(sum(w for *_rest, w in lex["intent"][name].find(norm)))
    question = 1.0 if ("?" in words or (words and words[0] in _QUESTION_WORDS)) else 0.0
    return [
        pos,
        neg,
        mixed,
        float(n_pos),
        float(n_neg),
        float(negated),
        math.log1p(len(words)),
        question,
        1.0 if len(words) <= 4 else 0.0,
    ] + intents


_QUESTION_WORDS = {
    "quanto",
    "quando",
    "qual",
    "como",
    "onde",
    "cade",
    "voces",
    "vcs",
    "tem",
    "how",
    "what",
    "when",
    "where",
    "can",
    "could",
    "do",
    "does",
    "is",
    "will",
    "why",
    "which",
    "are",
    "would",
}


def rule_sentiment(f: list[float]) -> dict[str, float]:
    """Hand-set rule on lexicon features -> class probabilities (not fitted on data)."""
    pos, neg, mixed = f[0], f[1], f[2]
    margin = pos - neg
    both = min(pos, neg)
    logits = {
        "positive": 1.2 * margin - 0.6 * both - 0.5 * mixed,
        "negative": -1.2 * margin - 0.4 * both - 0.3 * mixed,
        "neutral": 0.6 + 0.8 * mixed + 0.6 * both - 0.6 * abs(margin),
    }
    return _softmax(logits)


def rule_intent(f: list[float], sentiment: dict[str, float]) -> dict[str, float]:
    """Keyword scores, plus: an unhappy text with no clearer reason is a complaint."""
    scores = dict(zip(INTENTS[:-1], f[9:16], strict=False))
    words = math.expm1(f[6])
    if words > 8:  # a greeting inside a long message is not what the message is about
        scores["greeting_smalltalk"] *= 0.3
    scores["complaint"] += 1.5 * sentiment["negative"]
    scores["other"] = 1.0
    return _softmax({k: 1.5 * v for k, v in scores.items()})


def _softmax(logits: dict[str, float]) -> dict[str, float]:
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}
