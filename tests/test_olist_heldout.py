"""The held-out set builder of tests/bench/olist_heldout.py: labels by stars, the eval files'
writing, no text the eval files hold, the same number per label."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("olist_heldout", Path(__file__).parent / "bench" / "olist_heldout.py")
olist_heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(olist_heldout)


def test_written_as_the_eval_files_are():
    assert olist_heldout.as_eval_text("Não gostei ! Comprei gato por lebre") == "não gostei comprei gato por lebre"
    assert olist_heldout.as_eval_text("Chegou 17/09, R$ 20,00...ÓTIMO") == "chegou 17 09 r 20 00 ótimo"


def test_balanced_by_stars_without_known_texts():
    reviews = [
        {"id": "a", "stars": 1, "text": "Péssimo!"},
        {"id": "b", "stars": 2, "text": "Demorou."},
        {"id": "c", "stars": 3, "text": "Ok, mas veio riscado"},
        {"id": "d", "stars": 3, "text": "Tudo certo"},  # the eval files hold it: dropped
        {"id": "e", "stars": 4, "text": "Gostei"},
        {"id": "f", "stars": 5, "text": "gostei"},  # the same text again: dropped
        {"id": "g", "stars": 5, "text": ""},  # no message
        {"id": "h", "stars": 5, "text": "Amei"},
        {"id": "i", "stars": "", "text": "sem nota"},  # no rating: skipped
        {"id": "j", "stars": "4.0", "text": "Legal"},
    ]
    rows, available, dropped = olist_heldout.balanced(reviews, {"tudo certo"}, seed=0)
    assert available == {"negative": 2, "neutral": 1, "positive": 3}
    assert dropped == 1
    assert sorted(r["label"] for r in rows) == ["negative", "neutral", "positive"]
    assert next(r for r in rows if r["label"] == "neutral") == {
        "id": "c",
        "text": "ok mas veio riscado",
        "stars": 3,
        "label": "neutral",
    }
    assert rows == olist_heldout.balanced(reviews, {"tudo certo"}, seed=0)[0]  # the same sample again
