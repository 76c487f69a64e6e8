"""Loading an index and searching it; every way a load or a query can go wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from kb_fixtures import SAMPLE_ARTICLES, build_config

from kb import KBIndexError, KBInputError, KnowledgeBase, Passage, SearchConfig, build_index
from kb.encoder import load_encoder
from kb.paths import model_fingerprint


@pytest.fixture
def index_copy(tiny_index: Path, tmp_path: Path) -> Path:
    """A copy of the tiny index that a test may damage."""
    return Path(shutil.copytree(tiny_index, tmp_path / "index"))


@pytest.fixture
def unchecked_copy(index_copy: Path) -> Path:
    """A copy whose manifest has no checksums, as written before them: the loaders' own
    checks must still name a damaged file (with checksums: tests/test_damaged.py)."""
    manifest = json.loads((index_copy / "manifest.json").read_text())
    del manifest["checksums"]
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    return index_copy


def _artifact(index: Path, name: str) -> Path:
    manifest = json.loads((index / "manifest.json").read_text())
    return index / manifest["artifacts"][name]


def test_load_round_trip(tiny_kb, tiny_index, tiny_st_model):
    manifest = json.loads((tiny_index / "manifest.json").read_text())
    assert len(tiny_kb) == manifest["count"]
    assert tiny_kb.model_path == tiny_st_model.resolve()
    assert tiny_kb.article_ids() == SAMPLE_ARTICLES
    assert tiny_kb.path == tiny_index and tiny_kb.built_at == manifest["built_at"]
    results = tiny_kb.search("How long does a refund take?", k=3)
    assert len(results) == 3
    assert all(isinstance(p, Passage) for p in results)
    assert [p.score for p in results] == sorted((p.score for p in results), reverse=True)
    first = results[0]
    assert first.article_id in SAMPLE_ARTICLES and first.text
    assert set(first.to_dict()) == {"score", "article_id", "title", "section", "source", "text"}
    assert Passage.from_dict(first.to_dict()) == first


def test_passages_carry_their_citation(tiny_kb):
    everything = tiny_kb.search("refund", k=len(tiny_kb))
    refunds = [p for p in everything if p.article_id == "billing/refunds"]
    assert {p.title for p in refunds} == {"Refunds"}
    assert {p.source for p in refunds} == {"billing/refunds.md"}
    assert {p.section for p in refunds} == {
        "",
        "How long a refund takes",
        "Refunds for cancelled orders",
    }
    table = [p for p in refunds if p.section == "How long a refund takes"][0]
    assert "| Credit card | 5 to 10 business days |" in table.text.splitlines()


def test_encode_returns_unit_float32_vectors(tiny_kb):
    vectors = tiny_kb.encode(["one", "two words"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_search_embedding_matches_search(tiny_kb):
    question = "Where is my parcel?"
    by_text = tiny_kb.search(question, k=4)
    by_vector = tiny_kb.search_embedding(tiny_kb.encode([question])[0], k=4, text=question)
    assert [(p.article_id, p.section, p.text) for p in by_text] == [
        (p.article_id, p.section, p.text) for p in by_vector
    ]
    assert by_text[0].score == pytest.approx(by_vector[0].score, abs=1e-5)


def test_dense_only_scores_are_cosines(tiny_index):
    kb = KnowledgeBase.load(tiny_index, config=SearchConfig(keyword_weight=0.0))
    try:
        (best,) = kb.search("gift cards", k=1)
        assert -1.0 <= best.score <= 1.0
    finally:
        kb.close()


def test_keyword_part_lifts_exact_word_matches(tiny_index):
    # the random tiny model knows nothing; with a heavy keyword weight BM25 decides
    kb = KnowledgeBase.load(tiny_index, config=SearchConfig(keyword_weight=10.0))
    try:
        assert kb.search("vinegar limescale", k=1)[0].article_id == "guides/descaling"
    finally:
        kb.close()


def test_k_larger_than_the_index_returns_everything(tiny_kb):
    assert len(tiny_kb.search("kettle", k=10_000)) == len(tiny_kb)


def test_over_long_query_is_truncated_not_refused(tiny_kb):
    assert len(tiny_kb.search("refund " * 5000, k=2)) == 2


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_is_rejected(tiny_kb, query):
    with pytest.raises(KBInputError, match="query is empty"):
        tiny_kb.search(query)


@pytest.mark.parametrize("k", [0, -1, 2.5])
def test_bad_k_is_rejected(tiny_kb, k):
    with pytest.raises(KBInputError, match="k must be a positive integer"):
        tiny_kb.search("refund", k=k)


def test_query_embedding_of_the_wrong_size_is_rejected(tiny_kb):
    with pytest.raises(KBInputError, match="dimension 384"):
        tiny_kb.search_embedding(np.ones(384, dtype=np.float32))


def test_missing_index_directory(tmp_path):
    with pytest.raises(KBIndexError, match="does not exist"):
        KnowledgeBase.load(tmp_path / "nowhere")


def test_folder_without_manifest(tmp_path):
    with pytest.raises(KBIndexError, match=r"manifest\.json is missing"):
        KnowledgeBase.load(tmp_path)


def test_corrupted_manifest(index_copy):
    (index_copy / "manifest.json").write_text("{not json")
    with pytest.raises(KBIndexError, match=r"manifest\.json is corrupted"):
        KnowledgeBase.load(index_copy)


def test_corrupted_faiss_index_names_the_file(unchecked_copy):
    path = _artifact(unchecked_copy, "index")
    path.write_bytes(b"garbage" * 10)
    with pytest.raises(KBIndexError, match=f"FAISS index {path} is corrupted"):
        KnowledgeBase.load(unchecked_copy)


def test_missing_passage_store_names_the_file(unchecked_copy):
    path = _artifact(unchecked_copy, "passages")
    path.unlink()
    with pytest.raises(KBIndexError, match=f"passage store {path} is missing"):
        KnowledgeBase.load(unchecked_copy)


def test_corrupted_passage_store_names_the_file(unchecked_copy):
    path = _artifact(unchecked_copy, "passages")
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(KBIndexError, match=f"passage store {path} is corrupted"):
        KnowledgeBase.load(unchecked_copy)


def test_missing_embeddings_names_the_file(unchecked_copy):
    path = _artifact(unchecked_copy, "embeddings")
    path.unlink()
    with pytest.raises(KBIndexError, match=f"embeddings file {path}"):
        KnowledgeBase.load(unchecked_copy)


def test_corrupted_keyword_index_names_the_file(unchecked_copy):
    path = _artifact(unchecked_copy, "keywords")
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(KBIndexError, match=f"keyword index {path} is corrupted"):
        KnowledgeBase.load(unchecked_copy)


def test_dimension_mismatch_is_reported(index_copy):
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["dimension"] = 64
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KBIndexError, match="dimension 32 but .* says .* dimension 64"):
        KnowledgeBase.load(index_copy)


def test_another_model_is_refused_naming_both(tiny_index, tmp_path):
    from conftest import make_tiny_model

    other = make_tiny_model(tmp_path / "other", hidden=16, seed=1)
    with pytest.raises(KBIndexError) as err:
        KnowledgeBase.load(tiny_index, model_path=other)
    message = str(err.value)
    assert "manifest.json" in message
    assert str(other.resolve()) in message and "tiny-model" in message


def test_index_whose_model_is_gone_asks_for_one(kb_docs, tiny_st_model, tmp_path):
    model = Path(shutil.copytree(tiny_st_model, tmp_path / "model"))
    out = tmp_path / "index"
    build_index(kb_docs, out, build_config(model))
    shutil.rmtree(model)
    with pytest.raises(KBIndexError, match=r"is not there .* --model MODEL"):
        KnowledgeBase.load(out)
    kb = KnowledgeBase.load(out, model_path=tiny_st_model)  # same weights elsewhere: fine
    assert len(kb) > 0
    kb.close()


@pytest.fixture
def encoder_loads(monkeypatch) -> list:
    """Every query encoder a KnowledgeBase loads, recorded as it is returned."""
    import kb.knowledge_base

    loaded = []

    def recording_load(*args, **kwargs):
        encoder = load_encoder(*args, **kwargs)
        loaded.append(encoder)
        return encoder

    monkeypatch.setattr(kb.knowledge_base, "load_encoder", recording_load)
    return loaded


def test_query_encoder_loads_only_for_a_text_query(tiny_index, encoder_loads):
    kb = KnowledgeBase.load(tiny_index)
    try:
        assert encoder_loads == []  # loading the index does not load a model
        by_vector = kb.search_embedding(np.ones(32, dtype=np.float32), k=2)
        assert len(by_vector) == 2 and encoder_loads == []
        assert kb.search("refund", k=1) and len(encoder_loads) == 1
        assert kb.search("invoice", k=1) and len(encoder_loads) == 1  # loaded once, then kept
    finally:
        kb.close()


def test_query_precision_is_configurable(tiny_index, encoder_loads):
    kbs = [
        KnowledgeBase.load(tiny_index, config=SearchConfig(query_precision=p))
        for p in ("fp32", "bf16")
    ]
    try:
        fp32, bf16 = (kb.encode(["How long does a refund take?"])[0] for kb in kbs)
        assert [encoder.precision for encoder in encoder_loads] == ["fp32", "bf16"]
        assert float(fp32 @ bf16) > 0.99
    finally:
        for kb in kbs:
            kb.close()


def test_model_of_another_dimension_is_reported_on_load(index_copy, tmp_path, tiny_st_model):
    other = Path(shutil.copytree(tiny_st_model, tmp_path / "wide"))
    config = json.loads((other / "config.json").read_text())
    config["hidden_size"] = 48
    (other / "config.json").write_text(json.dumps(config))
    # A manifest that names this model (same fingerprint) but the index's dimension.
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["model"]["fingerprint"] = model_fingerprint(other)
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KBIndexError, match="dimension 32 but model .* produces 48"):
        KnowledgeBase.load(index_copy, model_path=other)


def test_the_keyword_weight_comes_from_the_manifest_unless_the_caller_sets_one(
    kb_docs, tiny_st_model, tmp_path
):
    out = tmp_path / "index"
    build_index(kb_docs, out, build_config(tiny_st_model, keyword_weight=0.7))
    stored = KnowledgeBase.load(out)
    overridden = KnowledgeBase.load(out, config=SearchConfig(keyword_weight=0.0))
    try:
        assert stored.keyword_weight == 0.7
        assert overridden.keyword_weight == 0.0
    finally:
        stored.close()
        overridden.close()


def test_an_index_without_a_stored_weight_uses_the_default(tiny_index, tmp_path):
    from kb.config import DEFAULT_KEYWORD_WEIGHT

    old = Path(shutil.copytree(tiny_index, tmp_path / "old"))
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["search"]  # an index built before the weight was stored
    (old / "manifest.json").write_text(json.dumps(manifest))
    kb = KnowledgeBase.load(old)
    try:
        assert kb.keyword_weight == DEFAULT_KEYWORD_WEIGHT
    finally:
        kb.close()


def test_hybrid_ranking_floor_shrinks_the_bonus_of_a_weak_best_match():
    from kb.knowledge_base import hybrid_ranking

    cos = np.array([0.50, 0.45, 0.10])
    bm25 = np.array([0.0, 1.0, 0.0])  # passage 1 shares one common word with the question

    def rank(floor):
        return hybrid_ranking(np.array([0, 1, 2]), lambda ids: cos[ids], bm25, 0.2, 3, 3, floor)

    ids, scores = rank(0.0)  # divided by the best passage: passage 1 gets the full 0.2
    assert ids.tolist()[:2] == [1, 0] and scores[0] == pytest.approx(0.65)
    ids, scores = rank(4.0)  # a floor 4x the best score: a quarter of the bonus
    assert ids.tolist()[:2] == [0, 1] and scores[1] == pytest.approx(0.45 + 0.2 / 4)
    ids, _ = rank(0.5)  # a floor below the best score changes nothing
    assert ids.tolist()[:2] == [1, 0]


def test_the_keyword_floor_comes_from_the_manifest_unless_the_caller_sets_one(
    kb_docs, tiny_st_model, tmp_path
):
    from kb.config import DEFAULT_KEYWORD_FLOOR

    out = tmp_path / "index"
    build_index(kb_docs, out, build_config(tiny_st_model, keyword_weight=0.2, keyword_floor=1.0))
    assert json.loads((out / "manifest.json").read_text())["search"]["keyword_floor"] == 1.0
    stored = KnowledgeBase.load(out)
    overridden = KnowledgeBase.load(out, config=SearchConfig(keyword_floor=0.0))
    try:
        assert stored.keyword_floor == 1.0 and overridden.keyword_floor == 0.0
        # two words of two articles: no passage matches both, so the ideal score is above
        # the best passage's, and the floor lowers every keyword bonus
        question = "refund descaling"
        floored = {p.text: p.score for p in stored.search(question, k=len(stored))}
        plain = {p.text: p.score for p in overridden.search(question, k=len(stored))}
        assert floored.keys() == plain.keys()
        assert all(floored[t] <= plain[t] + 1e-6 for t in plain)
        assert sum(floored[t] < plain[t] - 1e-3 for t in plain) >= 2
    finally:
        stored.close()
        overridden.close()
    manifest = json.loads((out / "manifest.json").read_text())
    # an index built (maybe tuned) before the floor existed is searched as it was built
    del manifest["search"]["keyword_floor"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    old = KnowledgeBase.load(out)
    try:
        assert old.keyword_floor == 0.0 and old.keyword_weight == 0.2
    finally:
        old.close()
    del manifest["search"]  # older still: nothing stored, the defaults
    (out / "manifest.json").write_text(json.dumps(manifest))
    oldest = KnowledgeBase.load(out)
    try:
        assert oldest.keyword_floor == DEFAULT_KEYWORD_FLOOR > 0
    finally:
        oldest.close()


def test_a_bad_stored_floor_names_the_manifest(tiny_index, tmp_path):
    bad = Path(shutil.copytree(tiny_index, tmp_path / "bad"))
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["search"]["keyword_floor"] = 3
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KBIndexError, match="manifest.json: search.keyword_floor .* got 3"):
        KnowledgeBase.load(bad)


def test_hybrid_ranking_merges_both_candidate_lists_without_importing_numpy_ma():
    """A chat's first search must not pay for a lazy import (np.union1d imports numpy.ma,
    ~35 ms, on its first call)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from kb.knowledge_base import hybrid_ranking\n"
        "cos = np.array([0.9, 0.5, 0.4, 0.1])\n"
        "ids, scores = hybrid_ranking(np.array([1, 0, -1]), lambda i: cos[i],\n"
        "                             np.array([0.0, 0.0, 0.0, 3.0]), 0.5, 4, 4)\n"
        "print(sorted(ids.tolist()), ids.dtype, 'numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # the dense ids (padding -1 dropped) and the keyword match, merged; nothing imported lazily
    assert out.stdout.split("\n")[0] == "[0, 1, 3] int64 False"
