"""The held-out set builders of tests/bench/olist_heldout.py: labels by stars, the eval files'
writing, no text the eval files hold, the same number per label; the classified split by id."""

import importlib.util
from pathlib import Path

import pytest

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


def _classified_row(i, stars, text, subclass):
    return {"id": str(i), "review_score": str(stars), "review_comment_message": text, "most_voted_subclass": subclass}


def test_classified_split_is_the_rows_no_eval_file_holds():
    mapping = olist_heldout.subclass_mapping(
        [
            {"subclass": "atrasado", "mapped_label": "order_status", "alt_label": "complaint"},
            {"label": "satisfeito", "mapped_label": "other", "alt_label": ""},
            {"label": "outro_pedido", "mapped_label": "", "alt_label": ""},
        ]
    )
    rows = [
        _classified_row(1, 5, "tudo certo", "satisfeito"),  # an eval row: left out
        _classified_row(2, 1, "ainda não recebi", "atrasado"),
        _classified_row(3, 3, "veio sem manual", "outro_pedido"),  # no intent of ours: sentiment only
        _classified_row(4, 4, "gostei", "satisfeito"),
        _classified_row(5, 5, "tudo certo", "satisfeito"),  # same text, another row: kept, as by id
        _classified_row(6, 2, "", "atrasado"),  # no message
        _classified_row(7, 1, "demorou demais", "atrasado"),
    ]
    out = olist_heldout.classified_split(rows, {"olist-0001"}, mapping, per_subclass=1, seed=0)
    assert [r["id"] for r in out["sentiment_all"]] == [
        "olist-0002",
        "olist-0003",
        "olist-0004",
        "olist-0005",
        "olist-0007",
    ]
    assert sorted(r["label"] for r in out["sentiment"]) == ["negative", "neutral", "positive"]
    assert {r["id"] for r in out["intent_all"]} == {"olist-0002", "olist-0004", "olist-0005", "olist-0007"}
    assert out["intent_all"][0] == {
        "id": "olist-0002",
        "text": "ainda não recebi",
        "label": "atrasado",
        "mapped_label": "order_status",
        "alt_label": "complaint",
    }
    assert sorted(r["label"] for r in out["intent"]) == ["atrasado", "satisfeito"]  # at most one per subclass
    new = olist_heldout.new_texts(out["sentiment_all"], {"tudo certo"}, seed=0)
    assert "olist-0005" not in {r["id"] for r in new}  # its text is an eval file's
    assert sorted(r["label"] for r in new) == ["negative", "neutral", "positive"]


def test_a_subclass_mapped_two_ways_is_refused():
    with pytest.raises(SystemExit, match="two ways"):
        olist_heldout.subclass_mapping(
            [
                {"subclass": "atrasado", "mapped_label": "order_status", "alt_label": ""},
                {"subclass": "atrasado", "mapped_label": "complaint", "alt_label": ""},
            ]
        )


def test_compare_scores_an_intent_file_as_conversa_eval_does(tmp_path, capsys):
    import argparse
    import csv

    def write(name, cols, rows):
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            w.writerows(rows)
        return str(tmp_path / name)

    heldout = write(
        "intent.csv",
        ["id", "text", "label", "mapped_label", "alt_label"],
        [["a", "atrasou", "atrasado", "order_status", "complaint"], ["b", "amei", "satisfeito", "other", ""]],
    )
    # "complaint" is row a's alt label: as right as "order_status"
    before = write("before.csv", ["id", "prediction"], [["a", "complaint"], ["b", "complaint"]])
    after = write("after.csv", ["id", "prediction"], [["a", "order_status"], ["b", "other"]])
    olist_heldout.compare(argparse.Namespace(heldout=heldout, before=before, after=after, bootstrap=10))
    out = capsys.readouterr().out
    assert out.startswith("2 rows: macro-F1 0.5000 -> 1.0000 (Δ +0.5000)")
    assert "as if every label were equally frequent: macro-F1 0.5000 -> 1.0000 (Δ +0.5000)" in out


def test_a_split_without_every_sentiment_label_is_refused():
    rows = [_classified_row(2, 1, "ainda não recebi", "atrasado"), _classified_row(4, 5, "gostei", "satisfeito")]
    with pytest.raises(SystemExit, match="every sentiment label"):
        olist_heldout.classified_split(rows, set(), {}, per_subclass=1)


def test_folds_deal_each_distinct_text_once_stratified_by_label():
    rows = [_classified_row(i, stars, f"texto {i % 7}", "satisfeito") for i, stars in enumerate([1, 3, 5] * 7, 1)]
    rows.append(_classified_row(99, 2, "Texto 1!", "atrasado"))  # written as the eval files: "texto 1", seen
    rows.append(_classified_row(98, 4, "", "satisfeito"))  # no message
    parts = olist_heldout.folds(rows, k=3, seed=0)
    texts = [r["text"] for p in parts for r in p]
    assert sorted(texts) == [f"texto {i}" for i in range(7)]  # each distinct text once, the first kept
    first = {f"texto {i % 7}": i for i in range(21, 0, -1)}
    assert all(r["id"] == f"olist-{first[r['text']]:04d}" for p in parts for r in p)
    for label in ("negative", "neutral", "positive"):
        sizes = [sum(r["label"] == label for r in p) for p in parts]
        assert max(sizes) - min(sizes) <= 1, (label, sizes)
    with pytest.raises(SystemExit, match="at least 2"):
        olist_heldout.folds(rows, k=1)
