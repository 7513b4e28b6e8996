"""The one label function (sentiment + intent) used by the server and by ``conversa eval``.

Out of the box: hand-written lexicon rules (``lexicon_pt``/``lexicon_en``), combined, when a
model is given, with the model's calibrated zero-shot log-probabilities of answer words
(one prompt, two short questions, KV prefix reused; see ``label_features``), then blended
with the built-in adapter trained on our own examples (``llm.seed_adapter``). With a trained
``adapter`` (``llm.adapter``) learned from the team's corrections, its probabilities are
blended in last. Without a model the same runs on the text features alone.
"""

from __future__ import annotations

import math

from .label_features import features
from .lexicon_match import INTENTS, SENTIMENTS, lexicon_features, rule_intent, rule_sentiment

__all__ = ["predict_labels", "features", "predict_from_features", "SENTIMENTS", "INTENTS"]

# Weight of the model's calibrated zero-shot log-probabilities against the lexicon rules
# (product of experts). Chosen on our own hand-written seed examples, not on eval data.
ZERO_SHOT_WEIGHT = {"sentiment": 0.25, "intent": 0.25}


def _lex(feats: dict) -> list[float]:
    lex = feats.get("lex")
    return lex if lex is not None else lexicon_features(feats["text"], feats["lang"])


def _with_zero_shot(probs: dict[str, float], feats: dict, key: str, task: str):
    model = feats.get("model")
    weight = ZERO_SHOT_WEIGHT[task]
    if not model or weight <= 0:
        return probs
    zero, calib = model[key], model.get("calib", {}).get(key, {})
    logp = {l: math.log(probs[l] + 1e-9) + weight * (zero[l] - calib.get(l, 0.0)) for l in probs}
    top = max(logp.values())
    e = {l: math.exp(v - top) for l, v in logp.items()}
    s = sum(e.values())
    return {l: v / s for l, v in e.items()}


def base_sentiment(feats: dict) -> dict[str, float]:
    return _with_zero_shot(rule_sentiment(_lex(feats)), feats, "sent_zero", "sentiment")


def base_intent(feats: dict, sentiment: dict[str, float]) -> dict[str, float]:
    return _with_zero_shot(rule_intent(_lex(feats), sentiment), feats, "intent_zero", "intent")


def _adapter_for(adapter, task):
    if adapter is None:
        return None
    if isinstance(adapter, dict):
        return adapter.get(task)
    if isinstance(adapter, (list, tuple)):
        return next((a for a in adapter if getattr(a, "task", None) == task), None)
    return adapter if getattr(adapter, "task", None) == task else None


def predict_from_features(feats: dict, adapter=None, seed=None) -> dict:
    """Labels from stored/computed features (``features(...)``); same result as
    ``predict_labels`` on the text the features came from. ``seed`` is the built-in adapter
    (``llm.seed_adapter``), blended in before the team's ``adapter``."""
    sent = base_sentiment(feats)
    intent = base_intent(feats, sent)
    if seed is not None and feats.get("lang", "pt") in seed:  # built-in adapters come by language
        seed = seed[feats.get("lang", "pt")]
    for adapters in (seed, adapter):  # built-in first, the team's corrections last
        ad = _adapter_for(adapters, "sentiment")
        sent = ad.blend(sent, feats) if ad is not None else sent
        ad = _adapter_for(adapters, "intent")
        intent = ad.blend(intent, feats) if ad is not None else intent
    s_label = max(sent, key=sent.get)
    i_label = max(intent, key=intent.get)
    score = max(-1.0, min(1.0, sent["positive"] - sent["negative"]))
    return {
        "sentiment": {"label": s_label, "score": round(score, 3)},
        "intent": {"label": i_label, "confidence": round(intent[i_label], 3)},
    }


def predict_labels(text: str, lang: str, llama=None, adapter=None) -> dict:
    """Sentiment and intent of a customer's recent incoming messages.

    ``lang`` is "pt" or "en"; ``llama`` a ``llama_cpp.Llama`` (normal generation instance)
    or None for the lexicon-only fallback; ``adapter`` an ``Adapter``, or a dict/list of
    them by task (``{"sentiment": a, "intent": b}``).
    """
    from .seed_adapter import for_model

    feats = features(text or "", lang, llama)
    return predict_from_features(feats, adapter, for_model(llama))
