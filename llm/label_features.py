"""Features for the label task: lexicon counts, hashed n-grams and one model pass.

The model pass runs on a normal generation ``Llama`` instance (no ``embedding=True``, no
``logits_all``): the prompt is a fixed instruction prefix (its KV cache is reused between
calls), the message, then two short questions. After each question we read the next-token
logits of the last position. Those logits are a linear image of the model's final hidden
state, so a fixed subset of them serves as the model's "embedding" of the message for the
trained adapter, and the log-probabilities of a few answer words are a zero-shot score.

``features(text, lang, llama)`` returns a JSON-serialisable dict that is stored with a
correction; the adapter trains on it later without the model.
"""

from __future__ import annotations

import math
import zlib

from .lexicon_match import lexicon_features, normalise

FEATURE_VERSION = 2  # 2: character n-gram counts (1 had word + char 4-gram weights)
HASH_DIM = 1 << 20
NGRAM_MIN, NGRAM_MAX = 2, 5
LOGIT_STRIDE = 64  # 49152 / 64 = 768 logits per question (SmolLM2 vocabulary)
MAX_TEXT_TOKENS = 160  # keep the newest part of long texts: bounded latency

_PREFIX = (
    "<|im_start|>system\nYou read a customer's message to a shop.<|im_end|>\n"
    "<|im_start|>user\nSay how the customer feels (happy, unhappy or neutral) and "
    "what the message is about (buying, a technical problem, a complaint, booking, "
    "cancelling, delivery status, greeting, or other).\n\nMessage:\n"
)
_ANSWER = "<|im_end|>\n<|im_start|>assistant\n"
_SENT_Q = _ANSWER + "Feeling:"
_INTENT_Q = _ANSWER + "Topic:"
# First tokens of answer words: zero-shot log-probabilities (also adapter features).
SENT_WORDS = {
    "positive": [" happy", " satisfied", " pleased"],
    "negative": [" unhappy", " angry", " disappointed", " upset"],
    "neutral": [" neutral", " asking", " curious"],
}
INTENT_WORDS = {
    "purchase_pricing": [" buying", " price", " purchase"],
    "support_technical": [" technical", " fixing", " troubleshooting"],
    "complaint": [" complaint", " complaining", " complaints"],
    "scheduling": [" booking", " scheduling", " appointment"],
    "cancellation": [" cancel", " cancellation", " refund"],
    "order_status": [" delivery", " shipping", " tracking"],
    "greeting_smalltalk": [" greeting", " greetings", " hello"],
    "other": [" other", " product", " something"],
}


def hashed_ngrams(text: str) -> tuple[list[int], list[int]]:
    """Character 2- to 5-grams inside each word (padded with spaces), hashed (crc32).

    Counts, not weights: the adapter applies tf-idf with the document frequencies of its own
    training set. Text is normalised first (no accents, no punctuation), so "nao" and "não",
    typed either way on a phone, share their grams.
    """
    counts: dict[int, int] = {}
    for word in normalise(text).split():
        padded = " " + word + " "
        for n in range(NGRAM_MIN, NGRAM_MAX + 1):
            for i in range(max(1, len(padded) - n + 1)):
                h = zlib.crc32(padded[i : i + n].encode()) % HASH_DIM
                counts[h] = counts.get(h, 0) + 1
    idx = sorted(counts)
    return idx, [counts[i] for i in idx]


def _word_ids(llama, table):
    out = {}
    for label, words in table.items():
        out[label] = sorted({llama.tokenize(w.encode(), add_bos=False)[0] for w in words})
    return out


class _ModelPass:
    """Token bookkeeping for one Llama instance (cached on the instance)."""

    def __init__(self, llama):
        self.llama = llama
        tok = lambda s: llama.tokenize(s.encode(), add_bos=False, special=True)  # noqa: E731
        self.prefix = tok(_PREFIX)
        self.sent_q = tok(_SENT_Q)
        self.intent_q = tok(_INTENT_Q)
        self.sent_ids = _word_ids(llama, SENT_WORDS)
        self.intent_ids = _word_ids(llama, INTENT_WORDS)
        self.n_vocab = llama.n_vocab()
        self.calib = None

    def _eval_from_common_prefix(self, tokens):
        import llama_cpp
        import numpy as np

        llama = self.llama
        n, limit = 0, min(llama.n_tokens, len(tokens) - 1)
        ids = llama.input_ids
        while n < limit and ids[n] == tokens[n]:
            n += 1
        llama.n_tokens = n
        llama.eval(tokens[n:])
        ptr = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)

    def run(self, text: str) -> dict:
        if self.calib is None:  # contextual calibration: answers to a content-free message
            empty = self._run("N/A")
            self.calib = {k: empty[k] for k in ("sent_zero", "intent_zero")}
        out = self._run(text)
        out["calib"] = self.calib
        return out

    def _run(self, text: str) -> dict:
        import numpy as np

        body = self.llama.tokenize(text.strip().encode(), add_bos=False)[-MAX_TEXT_TOKENS:]
        out = {}
        for name, question, table in (("sent", self.sent_q, self.sent_ids), ("intent", self.intent_q, self.intent_ids)):
            logits = self._eval_from_common_prefix(self.prefix + body + question)
            top = logits.max()
            logprobs = logits - top - math.log(np.exp(logits - top).sum())
            out[name + "_zero"] = {label: float(np.logaddexp.reduce(logprobs[ids])) for label, ids in table.items()}
            sub = logits[::LOGIT_STRIDE]
            out[name + "_vec"] = [round(float(v), 3) for v in (sub - sub.mean())]
        return out


def label_instance(llama):
    """The context the label pass runs on: the engine gives it one of its own (``engine.LABEL_CTX``)
    so the generation context keeps the conversation it re-uses; else the one given."""
    return getattr(llama, "_conversa_label_llama", None) or llama


def model_pass(llama, text: str) -> dict:
    llama = label_instance(llama)
    state = getattr(llama, "_conversa_label_pass", None)
    if state is None:
        state = _ModelPass(llama)
        try:
            llama._conversa_label_pass = state
        except AttributeError:  # pragma: no cover - slots
            pass
    return state.run(text)


def features(text: str, lang: str, llama=None) -> dict:
    """Everything the adapter needs, computed once (when a correction is stored)."""
    lang = "pt" if lang == "pt" else "en"
    feats = text_features(text, lang)
    if llama is not None:
        feats["model"] = model_pass(llama, text)
    return feats


def text_features(text: str, lang: str, model: dict | None = None) -> dict:
    """The parts computed from the text alone (cheap): lexicon counts and hashed n-grams.

    Also how features stored by an older version are brought up to date: recompute these
    from the correction's text and keep the stored model pass.
    """
    idx, val = hashed_ngrams(text)
    return {"v": FEATURE_VERSION, "lang": lang, "lex": lexicon_features(text, lang), "hash": [idx, val], "model": model}
