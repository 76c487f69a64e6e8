"""BM25 keyword index: tokens, stems, scores and its save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

from kb import KBIndexError
from kb.bm25 import KeywordIndex, stem, tokenize


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["refund", "refunds", "refunded", "refunding"], "refund"),
        (["charge", "charges", "charged", "charging"], "charg"),
        (["ship", "ships", "shipped", "shipping"], "ship"),
        (["battery", "batteries"], "battery"),
    ],
)
def test_word_forms_share_a_stem(words, expected):
    assert {stem(w) for w in words} == {expected}


def test_short_words_numbers_and_status_are_kept():
    assert [stem(w) for w in ["fee", "nh48213", "status", "gas"]] == [
        "fee",
        "nh48213",
        "status",
        "gas",
    ]


def test_tokenize_drops_stopwords_and_case():
    assert tokenize("Where is MY Parcel?") == ["parcel"]


def test_scores_favour_rare_words_and_short_passages():
    index = KeywordIndex.build(
        [
            "refund policy for cameras",
            "refund refund refund and a very long passage about many other things entirely",
            "delivery of cameras",
            "warranty",
        ]
    )
    scores = index.scores("refund")
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == scores[3] == 0
    assert scores.dtype == np.float32 and scores.shape == (4,)
    # "warranty" is in one passage, "cameras" in two: the rarer word weighs more
    assert index.scores("warranty")[3] > index.scores("cameras")[2]
    assert not index.scores("unknown words only").any()
    assert not index.scores("").any()


def test_ideal_score_sums_each_query_words_best_weight():
    texts = ["card refunds", "delivery times for cards", "gift card balance", "delivery"]
    index = KeywordIndex.build(texts)
    # no passage holds both words, so the ideal is above every real score
    ideal = index.ideal_score("refund delivery")
    best_each = index.scores("refund").max() + index.scores("delivery").max()
    assert ideal == pytest.approx(float(best_each), rel=1e-6)
    assert ideal > index.scores("refund delivery").max() > 0
    # one word: the best passage is the ideal; repeated and unknown words add nothing
    assert index.ideal_score("card card zebra") == pytest.approx(
        float(index.scores("card").max()), rel=1e-6
    )
    assert index.ideal_score("zebra") == 0.0
    assert KeywordIndex.build([]).ideal_score("card") == 0.0


def test_ideal_score_survives_a_save_load_round_trip(tmp_path):
    index = KeywordIndex.build(["card refunds", "delivery times", "gift card balance"])
    index.save(tmp_path / "kw.npz")
    loaded = KeywordIndex.load(tmp_path / "kw.npz")
    assert loaded.ideal_score("refund delivery") == pytest.approx(
        index.ideal_score("refund delivery")
    )


def test_empty_collection_and_texts_without_words():
    index = KeywordIndex.build(["the and of", "!!!"])
    assert index.count == 2 and not index.scores("the").any()


def test_save_load_round_trip(tmp_path):
    index = KeywordIndex.build(["gift cards never expire", "support opening hours"])
    index.save(tmp_path / "k.npz")
    loaded = KeywordIndex.load(tmp_path / "k.npz")
    assert loaded.count == 2
    assert np.array_equal(loaded.scores("gift card hours"), index.scores("gift card hours"))


def test_missing_or_corrupted_file_names_it(tmp_path):
    with pytest.raises(KBIndexError, match="keyword index .*k.npz is missing"):
        KeywordIndex.load(tmp_path / "k.npz")
    (tmp_path / "k.npz").write_bytes(b"PK garbage")
    with pytest.raises(KBIndexError, match="keyword index .*k.npz is corrupted"):
        KeywordIndex.load(tmp_path / "k.npz")
