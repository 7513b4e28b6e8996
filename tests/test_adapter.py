"""The label adapter without the model: learning, persistence, and upgrades of stored features.

Fast unit tests; the end-to-end path (model features, API, background retrain) is
tests/test_corrections.py.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from desktop.store import chats, corrections
from desktop.store.database import Store
from desktop.team_adapter import current_features
from llm import adapter as adapter_mod
from llm.label_features import FEATURE_VERSION, text_features
from llm.labels import predict_from_features

HAPPY = ["adorei o produto", "chegou rapidinho, amei", "tudo perfeito, obrigada", "produto excelente"]
NEUTRAL = ["chegou, ainda vou testar", "veio certinho mas demorou", "é ok, nada demais", "razoável pelo preço"]
ANGRY = ["não recebi até hoje", "veio quebrado, que raiva", "péssimo, quero meu dinheiro", "produto horrível"]


def _examples(times: int = 5):
    data = [(t, "positive") for t in HAPPY] + [(t, "neutral") for t in NEUTRAL] + [(t, "negative") for t in ANGRY]
    return [(text_features(f"{t} {'!' * i}", "pt"), label) for i in range(times) for t, label in data]


def test_adapter_learns_and_round_trips_exactly():
    ad = adapter_mod.train(_examples(), "sentiment")
    assert ad.labels == ["negative", "neutral", "positive"] and ad.n_examples == 60
    probe = text_features("veio certinho mas demorou um pouco", "pt")
    p = ad.predict_proba(probe)
    assert max(p, key=p.get) == "neutral", p
    again = adapter_mod.Adapter.from_bytes(ad.to_bytes())
    q = again.predict_proba(probe)
    assert all(abs(p[k] - q[k]) < 1e-5 for k in p)
    # With enough corrections the blended label follows the team.
    assert predict_from_features(probe, {"sentiment": ad})["sentiment"]["label"] == "neutral"


def test_labels_the_team_never_used_keep_their_base_probability():
    ad = adapter_mod.train([(f, "complaint" if lab == "negative" else "other") for f, lab in _examples()], "intent")
    assert ad.labels == ["complaint", "other"]
    base = {label: 1 / 8 for label in adapter_mod.INTENTS}
    blended = ad.blend(base, text_features("quero cancelar", "pt"))
    assert set(blended) == set(adapter_mod.INTENTS) and abs(sum(blended.values()) - 1) < 1e-9
    assert blended["cancellation"] > 0.05


def test_ratings_between_classes_also_teach_neutral():
    assert adapter_mod.rating_targets(1) == [("negative", 1.0)]
    assert adapter_mod.rating_targets(3) == [("neutral", 1.0)]
    assert adapter_mod.rating_targets(4) == [("positive", 1.0), ("neutral", adapter_mod.BETWEEN_WEIGHT)]
    with pytest.raises(ValueError, match="1 to 5"):
        adapter_mod.rating_targets(0)


def test_weighted_copies_count_once_in_the_vocabulary_and_shift_the_label():
    plain = _examples(2)
    probe = text_features("adorei, chegou tudo certinho", "pt")
    base = adapter_mod.train(plain, "sentiment")
    # Every positive text given again as part neutral: one text still counts once.
    weighted = [(f, lab, 1.0) for f, lab in plain] + [(f, "neutral", 0.5) for f, lab in plain if lab == "positive"]
    ad = adapter_mod.train(weighted, "sentiment")
    assert ad.n_examples == base.n_examples == 24
    assert np.array_equal(ad.keep, base.keep) and np.allclose(ad.idf, base.idf)
    # ...and praise now reads as a little closer to neutral.
    assert ad.predict_proba(probe)["neutral"] > base.predict_proba(probe)["neutral"]
    # Weight 1 everywhere is the unweighted fit; weight 0 drops an example.
    same = adapter_mod.train([(f, lab, 1) for f, lab in plain] + [(plain[0][0], "neutral", 0)], "sentiment")
    assert np.allclose(same.W, base.W, atol=1e-6)


def test_adapter_refuses_unknown_formats_and_stale_features():
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.frombuffer(json.dumps({"format": 1}).encode(), np.uint8))
    with pytest.raises(ValueError, match="format"):
        adapter_mod.Adapter.from_bytes(buf.getvalue())
    stale = dict(text_features("oi", "pt"), v=1)
    assert adapter_mod.needs_refresh(stale)
    with pytest.raises(ValueError, match="older version"):
        adapter_mod.train([(stale, "positive")], "sentiment")
    with pytest.raises(ValueError, match="task"):
        adapter_mod.train(_examples(1), "astrology")


def test_stored_features_from_an_older_version_are_recomputed_from_the_text(tmp_path):
    store, _ = Store.open(tmp_path, "")
    capture = {
        "chat": {"id": "5511900000009@c.us", "title": "Rita", "is_group": False, "phone": None},
        "messages": [
            {
                "id": "false_x_1",
                "direction": "in",
                "kind": "text",
                "author": "Rita",
                "timestamp": "2026-03-10T09:00:00",
                "text": "adorei",
            },
        ],
    }
    stored = chats.store_capture(store, capture, "u1")
    row = chats.conversation_row(store, stored.conversation_id)
    ids = corrections.add(store, row, "u1", {"sentiment": "positive"}, "adorei, chegou rapidinho", "pt")
    model = {"sent_zero": {"negative": -3.0, "neutral": -2.0, "positive": -1.0}}
    old = {"v": 1, "lang": "pt", "lex": [0.0], "hash": [[1, 2], [0.5, 0.5]], "model": model}
    corrections.set_features(store, ids, row["kid"], old)
    (ex,) = corrections.training_examples(store, adapter_mod.needs_refresh)["sentiment"]
    assert (ex.label, ex.text, ex.lang, ex.stars) == ("positive", "adorei, chegou rapidinho", "pt", None)
    fresh = current_features(ex)
    assert fresh["v"] == FEATURE_VERSION and fresh["model"] == model
    assert fresh == text_features("adorei, chegou rapidinho", "pt", model)
    corrections.set_features(store, ids, row["kid"], fresh)
    (ex,) = corrections.training_examples(store, adapter_mod.needs_refresh)["sentiment"]
    assert ex.text is None  # current features: the text stays sealed
    store.close()


def test_built_in_adapter_is_trained_on_our_seed_examples_without_a_model():
    from llm import seed_adapter
    from llm.labels import predict_labels

    rows = seed_adapter.seed_rows()
    assert {lang for _, lang, _, _ in rows} == {"pt", "en"} and len(rows) > 150
    built_in = seed_adapter.for_model(None)
    assert set(built_in) == {"pt", "en"}  # one per language: each learns only from its own examples
    for lang, adapters in built_in.items():
        assert set(adapters) == {"sentiment", "intent"}
        assert adapters["intent"].n_examples == sum(r[1] == lang for r in rows)
    assert predict_labels("quero cancelar meu pedido", "pt")["intent"]["label"] == "cancellation"


def test_built_in_adapters_are_cached_per_language_next_to_the_model(tmp_path, model_file):
    import shutil

    from llama_cpp import Llama

    from llm import seed_adapter

    path = tmp_path / "m.gguf"
    shutil.copyfile(model_file, path)
    stale = tmp_path / "m.seed-intent-0000000000000000.npz"  # from earlier seed files
    stale.write_bytes(b"old")
    llama = Llama(str(path), n_ctx=512, verbose=False)
    built = seed_adapter.prepare(llama, path)
    cached = sorted(p.name for p in tmp_path.glob("m.seed-*.npz"))
    assert len(cached) == 4 and not stale.exists()
    assert {n.split("-")[1] for n in cached} == {"pt", "en"}
    assert seed_adapter.for_model(llama) is built

    class NoModel:  # a second start reads the cache: no model pass at all
        pass

    again = seed_adapter.prepare(NoModel(), path)
    assert (again["pt"]["sentiment"].W == built["pt"]["sentiment"].W.astype("float32")).all()


def test_examples_newer_than_the_adapters_ask_for_a_retrain(tmp_path):
    from desktop import team_adapter

    store, _ = Store.open(tmp_path, "")
    try:
        assert not corrections.needs_retrain(store)  # nothing to learn from
        feats = text_features("veio certinho mas demorou", "pt")
        corrections.add_imported(store, [("sentiment", "positive", 4, "veio certinho mas demorou", "pt", feats)])
        corrections.add_imported(store, [("intent", "astrology", None, "x", "pt", text_features("x", "pt"))])
        assert corrections.needs_retrain(store)
        trained, _secs = team_adapter.retrain(store)  # the unknown intent label is skipped, not fatal
        assert list(trained) == ["sentiment"] and trained["sentiment"].labels == ["neutral", "positive"]
        assert not corrections.needs_retrain(store)
        assert corrections.forget_imported(store) == 2
        team_adapter.retrain(store)
        assert corrections.load_adapters(store) == {}
    finally:
        store.close()


# -- the guard: a team adapter is weighted by how it does on its own held-out examples ---------
def _oracle(examples):
    """Out-of-the-box probabilities that already know every example's label."""
    truth = {id(f): label for f, label, *_ in examples}

    def base(f):
        label = truth.get(id(f), "neutral")
        return {s: (0.8 if s == label else 0.1) for s in adapter_mod.SENTIMENTS}

    return base


def test_a_team_adapter_that_cannot_beat_the_out_of_the_box_is_not_used():
    examples = _examples()
    ad = adapter_mod.train(examples, "sentiment", base=_oracle(examples))
    assert ad.weight == 0 and ad.selection["base"] == 1.0  # nothing beats a perfect base
    probe = examples[0][0]
    base = _oracle(examples)(probe)
    assert ad.blend(base, probe) == base
    # ...whereas the prior weight alone (no check) lets 60 examples outweigh the base.
    unchecked = adapter_mod.train(examples, "sentiment")
    assert unchecked.weight is None and unchecked.mix_weight() == 60 / 80


def test_a_team_adapter_that_beats_the_out_of_the_box_is_used_and_keeps_its_choice():
    examples = _examples()
    always_neutral = lambda f: {"negative": 0.3, "neutral": 0.4, "positive": 0.3}  # noqa: E731
    ad = adapter_mod.train(examples, "sentiment", base=always_neutral)
    sel = ad.selection
    assert ad.weight > 0 and sel["score"] > sel["base"] and sel["c"] in adapter_mod.C_GRID, sel
    probe = text_features("produto horrível, não recebi", "pt")
    blended = ad.blend(always_neutral(probe), probe)
    assert max(blended, key=blended.get) == "negative", blended
    again = adapter_mod.Adapter.from_bytes(ad.to_bytes())
    assert again.weight == ad.weight and again.selection == sel


def test_too_few_examples_to_check_keep_the_prior_weight():
    few = _examples(1)  # 12 texts, 4 a label: fewer than the inner folds need
    assert adapter_mod.choose(few, "sentiment", _oracle(few)) is None
    ad = adapter_mod.train(few, "sentiment", base=_oracle(few))
    assert ad.weight is None and ad.mix_weight() == 12 / 32


def test_the_check_scores_as_if_every_label_were_equally_frequent():
    gold = ["positive"] * 8 + ["neutral"] * 2
    pred = ["positive"] * 6 + ["neutral"] * 2 + ["neutral", "positive"]
    assert adapter_mod.macro_f1(gold, pred) == pytest.approx((2 * 6 / (12 + 2 + 1) + 2 / (2 + 2 + 1)) / 2)
    # Balanced: each positive text weighs 1/8, each neutral 1/2.
    tp_p, fn_p, fp_p = 6 / 8, 2 / 8, 1 / 2
    tp_n, fn_n, fp_n = 1 / 2, 1 / 2, 2 / 8
    want = (2 * tp_p / (2 * tp_p + fn_p + fp_p) + 2 * tp_n / (2 * tp_n + fn_n + fp_n)) / 2
    assert adapter_mod.macro_f1(gold, pred, balanced=True) == pytest.approx(want)


def test_the_check_keeps_a_rating_and_its_neutral_copy_in_the_same_fold():
    examples = []
    for f, label in _examples(3):
        stars = {"positive": 4, "negative": 2, "neutral": 3}[label]
        examples += [(f, lab, w) for lab, w in adapter_mod.example_targets(label, stars)]
    texts = adapter_mod._texts(examples)
    assert len(texts) == 36 and {lab for _f, lab in texts.values()} == set(adapter_mod.SENTIMENTS)
    folds = adapter_mod._folds(texts, adapter_mod.INNER_FOLDS)
    assert sorted(k for fold in folds for k in fold) == sorted(texts)  # each text in exactly one fold
    assert len(adapter_mod._without_copies(examples)) == 36
    assert adapter_mod._folds(texts, 5) == folds  # the same examples, the same folds


def test_base_probabilities_are_what_the_label_path_blends_the_team_adapter_into():
    from llm import seed_adapter

    seed = seed_adapter.for_model(None)
    ad = adapter_mod.train(_examples(), "sentiment")
    for weight in (0.0, 0.6, 1.0):
        ad.weight = weight
        for text in ["veio certinho mas demorou um pouco", "péssimo, não recebi", "adorei"]:
            f = text_features(text, "pt")
            base = adapter_mod.base_probabilities(f, "sentiment", seed)
            want = ad.blend(base, f)
            got = predict_from_features(f, {"sentiment": ad}, seed)["sentiment"]["label"]
            assert got == max(want, key=want.get)
            if weight == 0:
                assert got == max(base, key=base.get)
    f = text_features("quero cancelar meu pedido", "pt")
    intent = adapter_mod.base_probabilities(f, "intent", seed)
    assert max(intent, key=intent.get) == predict_from_features(f, None, seed)["intent"]["label"]


def test_team_training_checks_against_the_built_in_labels(tmp_path):
    from desktop import team_adapter

    store, _ = Store.open(tmp_path, "")
    try:
        rows = []
        for i in range(5):
            for texts, label in ((HAPPY, "positive"), (NEUTRAL, "neutral"), (ANGRY, "negative")):
                for t in texts:
                    text = f"{t} {'!' * i}"
                    rows.append(("sentiment", label, None, text, "pt", text_features(text, "pt")))
        corrections.add_imported(store, rows)
        trained, _secs = team_adapter.retrain(store)
        sel = trained["sentiment"].selection
        assert {"c", "weight", "score", "base"} <= sel.keys(), sel
        saved = adapter_mod.Adapter.from_bytes(corrections.load_adapters(store)["sentiment"])
        assert saved.weight == trained["sentiment"].weight
    finally:
        store.close()


def test_a_prediction_equals_the_training_matrix_and_needs_no_scipy(tmp_path):
    """Predicting is a dense gather, the same numbers as the training's sparse matrix; and it
    imports no scipy, whose first import froze the desktop window for about 100 ms."""
    import subprocess
    import sys

    ad = adapter_mod.train(_examples(), "sentiment")
    probe = text_features("veio certinho mas demorou um pouco", "pt")
    z = (ad._matrix([probe]) @ ad.W)[0] + ad.b
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    got = ad.predict_proba(probe)
    assert np.allclose([got[label] for label in ad.labels], expected, atol=1e-12)
    (tmp_path / "adapter.npz").write_bytes(ad.to_bytes())
    (tmp_path / "probe.json").write_text(json.dumps(probe))
    code = (
        "import json, sys; from pathlib import Path; from llm.adapter import Adapter; "
        f"d = Path({str(tmp_path)!r}); "
        "ad = Adapter.from_bytes((d / 'adapter.npz').read_bytes()); "
        "ad.predict_proba(json.loads((d / 'probe.json').read_text())); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout
