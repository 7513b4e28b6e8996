"""The team's label adapters, trained from every stored example: corrections made in
conversations and labelled texts imported from a file. The server retrains in the background;
`conversa labels import` trains right after importing."""

from __future__ import annotations

import time
from typing import Any

from desktop.store import corrections
from desktop.store.database import Store


def current_features(ex: corrections.StoredExample) -> dict:
    """Stored features brought to this version (the stored model pass is kept): an upgrade
    never throws the team's corrections away."""
    from llm.label_features import text_features

    return text_features(ex.text, ex.lang, ex.features.get("model")) if ex.text is not None else ex.features


def train_all(stored: dict[str, list[corrections.StoredExample]], seed: Any = None) -> dict[str, Any]:
    """One adapter per task that has usable examples; a rating also teaches its part-neutral copy.

    Each adapter is checked against the out-of-the-box labels by cross-validation on these
    examples (``llm.adapter.train`` with ``base``) and weighted, or left unused, accordingly.
    ``seed``: the built-in adapters to compare with (those of the loaded model; by default the
    text-only ones, the same for pt-BR, where the adapters do not use the model pass).
    """
    from llm import seed_adapter
    from llm.adapter import base_probabilities, example_targets, train
    from llm.tasks import INTENTS, SENTIMENTS

    seed = seed if seed is not None else seed_adapter.for_model(None)
    trained = {}
    for task, rows in stored.items():
        allowed = SENTIMENTS if task == "sentiment" else INTENTS
        examples = []
        for ex in rows:
            if ex.label not in allowed:  # a label an older version allowed: skip, never fail the rest
                continue
            feats = current_features(ex)
            examples += [(feats, label, weight) for label, weight in example_targets(ex.label, ex.stars)]
        if examples:
            trained[task] = train(examples, task, base=lambda f, t=task: base_probabilities(f, t, seed))
    return trained


def examples(store: Store) -> dict[str, list[corrections.StoredExample]]:
    """Every stored example by task, with the text of those whose features need recomputing."""
    from llm.adapter import needs_refresh

    return corrections.training_examples(store, needs_refresh)


def save(store: Store, stored: dict[str, list[corrections.StoredExample]], trained: dict[str, Any]) -> None:
    """Replace the saved adapters with ``trained``; a task left without one falls back to the built-in labels."""
    for task, adapter in trained.items():
        corrections.save_adapter(store, task, adapter.to_bytes(), len(stored[task]))
    corrections.delete_adapters_except(store, list(trained))


def retrain(store: Store) -> tuple[dict[str, Any], float]:
    """Train from the store and save the adapters; returns them and the seconds it took.
    The server runs the same three steps with training off its database thread."""
    stored = examples(store)
    t0 = time.monotonic()
    trained = train_all(stored)
    secs = time.monotonic() - t0
    save(store, stored, trained)
    return trained, secs
