"""Building, incremental rebuilds, index types, atomic writes and bad docs folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from kb_fixtures import SAMPLE_ARTICLES, SAMPLE_FILES, build_config

import kb.build
from kb import KBInputError, KnowledgeBase, build_index
from kb.errors import ModelError
from kb.manifest import FORMAT_VERSION


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _all_articles(out: Path) -> set[str]:
    kb = KnowledgeBase.load(out)
    try:
        return {p.article_id for p in kb.search("anything at all", k=len(kb))}
    finally:
        kb.close()


def test_build_writes_a_self_describing_index(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    report = build_index(kb_docs, out, build_config(tiny_st_model))
    assert len(report.added) == SAMPLE_FILES
    assert report.articles == len(SAMPLE_ARTICLES)
    assert report.embedded == report.count > len(SAMPLE_ARTICLES)
    manifest = _manifest(out)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["count"] == report.count
    assert manifest["dimension"] == 32
    # relative to the index, so that both can move together
    assert manifest["model"]["path"] == os.path.relpath(tiny_st_model.resolve(), out.resolve())
    assert manifest["model"]["built_path"] == str(tiny_st_model.resolve())
    assert manifest["model"]["fingerprint"].startswith("sha256:")
    assert manifest["index"]["type"] == "flat"
    config = build_config(tiny_st_model)
    assert manifest["chunking"] == config.chunking()
    assert manifest["search"] == {
        "keyword_weight": config.keyword_weight,
        "keyword_floor": config.keyword_floor,
    }
    assert manifest["embedding"]["template_name"] == config.embed_template
    assert manifest["tuning"] is None
    assert manifest["files"]["billing/refunds.md"]["articles"] == ["billing/refunds"]
    assert len(manifest["files"]["billing/refunds.md"]["sha256"]) == 64
    assert manifest["built_at"].endswith("+00:00")
    assert manifest["embedding"]["workers"] == report.workers >= 1
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["manifest.json", *manifest["artifacts"].values()])
    assert not any(name.endswith(".pkl") for name in names)


def test_rebuild_embeds_only_the_changed_file(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    config = build_config(tiny_st_model)
    first = build_index(kb_docs, out, config)
    before = _manifest(out)
    invoices = kb_docs / "billing" / "invoices.md"
    invoices.write_text(invoices.read_text() + "\nInvoices are kept for seven years.\n")
    report = build_index(kb_docs, out, config)
    assert report.changed == ["billing/invoices.md"]
    assert report.added == report.removed == []
    assert len(report.unchanged) == SAMPLE_FILES - 1
    assert report.embedded == _manifest(out)["files"]["billing/invoices.md"]["passages"]
    assert report.embedded < first.embedded
    after = _manifest(out)
    assert after["artifacts"] != before["artifacts"]  # old data files replaced and removed
    assert not (out / before["artifacts"]["index"]).exists()


def test_unchanged_embeddings_are_reused_exactly(kb_docs, tiny_st_model, tmp_path):
    import numpy as np

    out = tmp_path / "index"
    config = build_config(tiny_st_model)
    build_index(kb_docs, out, config)
    old = np.load(out / _manifest(out)["artifacts"]["embeddings"])
    (kb_docs / "billing" / "invoices.md").write_text("# Invoices\n\nNew text only.\n")
    build_index(kb_docs, out, config)
    new = np.load(out / _manifest(out)["artifacts"]["embeddings"])
    kb = KnowledgeBase.load(out)
    refund_vec = kb.encode(["Refunds\nRefunds for cancelled orders\nx"])  # any vector
    assert refund_vec.shape == (1, 32)
    kb.close()
    # rows of files sorted after billing/invoices.md keep identical vectors
    assert any(np.array_equal(row, new[-1]) for row in old)


def test_deleted_file_vanishes_from_results(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    config = build_config(tiny_st_model)
    build_index(kb_docs, out, config)
    assert "shipping/delivery" in _all_articles(out)
    (kb_docs / "shipping" / "delivery.html").unlink()
    report = build_index(kb_docs, out, config)
    assert report.removed == ["shipping/delivery.html"]
    assert report.embedded == 0
    assert _all_articles(out) == SAMPLE_ARTICLES - {"shipping/delivery"}


def test_added_file_is_reported_and_searchable(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    config = build_config(tiny_st_model)
    build_index(kb_docs, out, config)
    (kb_docs / "billing" / "fees.md").write_text("# Late fees\n\nA late fee is 5 pounds.\n")
    report = build_index(kb_docs, out, config)
    assert report.added == ["billing/fees.md"]
    assert report.embedded == 1
    assert "billing/fees" in _all_articles(out)
    summary = report.summary()
    assert "added: 1 file: billing/fees.md" in summary
    assert "unchanged: 6 files" in summary


def test_chunking_change_re_embeds_everything(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    build_index(kb_docs, out, build_config(tiny_st_model))
    report = build_index(kb_docs, out, build_config(tiny_st_model, max_words=50))
    assert "chunking" in report.full_rebuild_reason
    assert len(report.unchanged) == 6  # same content, re-embedded all the same
    assert report.embedded == report.count
    assert "unchanged: 6 files (re-embedded, see above)" in report.summary()


def test_skipped_files_are_listed(kb_docs, tiny_st_model, tmp_path):
    (kb_docs / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (kb_docs / "broken.txt").write_bytes(b"\x00\x01binary")
    report = build_index(kb_docs, tmp_path / "index", build_config(tiny_st_model))
    assert {s.path for s in report.skipped} == {"photo.jpg", "broken.txt"}
    assert "skipped: 2: broken.txt (binary file), photo.jpg" in report.summary()
    assert _manifest(tmp_path / "index")["skipped"][0]["path"] == "broken.txt"


def test_duplicate_article_ids_keep_the_first_file(kb_docs, tiny_st_model, tmp_path):
    (kb_docs / "zz.jsonl").write_text('{"id": "billing/refunds", "title": "T", "body": "B"}\n')
    report = build_index(kb_docs, tmp_path / "index", build_config(tiny_st_model))
    assert [s.path for s in report.skipped] == ["zz.jsonl"]
    assert "duplicate article id 'billing/refunds'" in report.skipped[0].reason


def test_hnsw_index_reports_recall(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    report = build_index(kb_docs, out, build_config(tiny_st_model, index_type="hnsw"))
    assert report.index_type == "hnsw"
    assert 0.9 <= report.recall_at_10 <= 1.0
    index = _manifest(out)["index"]
    assert index["type"] == "hnsw" and index["recall_at_10"] == report.recall_at_10
    assert "recall@10" in report.summary()


def test_auto_index_type_switches_at_the_threshold(kb_docs, tiny_st_model, tmp_path):
    report = build_index(kb_docs, tmp_path / "a", build_config(tiny_st_model, hnsw_threshold=5))
    assert report.index_type == "hnsw"
    report = build_index(kb_docs, tmp_path / "b", build_config(tiny_st_model))
    assert report.index_type == "flat" and report.recall_at_10 is None


def test_a_failed_build_leaves_the_previous_index_intact(
    kb_docs, tiny_st_model, tmp_path, monkeypatch
):
    out = tmp_path / "index"
    config = build_config(tiny_st_model)
    build_index(kb_docs, out, config)
    before = sorted(p.name for p in out.iterdir())
    manifest = (out / "manifest.json").read_text()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(kb.build, "write_faiss_index", fail)
    (kb_docs / "billing" / "invoices.md").unlink()
    with pytest.raises(OSError, match="disk full"):
        build_index(kb_docs, out, config)
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "manifest.json").read_text() == manifest
    assert "billing/invoices" in _all_articles(out)


def test_failed_first_build_leaves_no_folder(kb_docs, tiny_st_model, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # as when the user presses ctrl+c while passages embed

    monkeypatch.setattr(kb.build.Embedder, "embed", fail)
    out = tmp_path / "new" / "index"
    with pytest.raises(KeyboardInterrupt):
        build_index(kb_docs, out, build_config(tiny_st_model))
    assert not out.exists()


def test_missing_docs_folder_is_an_error(tmp_path, tiny_st_model):
    with pytest.raises(KBInputError, match="does not exist"):
        build_index(tmp_path / "nope", tmp_path / "out", build_config(tiny_st_model))


def test_empty_docs_folder_is_an_error(tmp_path, tiny_st_model):
    (tmp_path / "docs").mkdir()
    with pytest.raises(KBInputError, match="no readable documents"):
        build_index(tmp_path / "docs", tmp_path / "out", build_config(tiny_st_model))
    assert not (tmp_path / "out").exists()


def test_folder_without_readable_documents_names_the_skipped_files(tmp_path, tiny_st_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.bin").write_bytes(b"\x00")
    (docs / "b.md").write_bytes(b"\x00\x00")
    with pytest.raises(KBInputError, match=r"a\.bin \(unsupported.*b\.md \(binary file\)"):
        build_index(docs, tmp_path / "out", build_config(tiny_st_model))


def test_bad_model_directory_is_an_error(kb_docs, tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        build_index(kb_docs, tmp_path / "out", build_config(tmp_path))


def test_embedding_uses_every_available_core(monkeypatch):
    from kb.build import available_cores

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5})
    assert available_cores() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set())
    assert available_cores() == 1


def test_a_new_embedding_template_or_packing_re_embeds_everything(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    first = build_index(kb_docs, out, build_config(tiny_st_model, embed_template="title_section"))
    again = build_index(kb_docs, out, build_config(tiny_st_model, embed_template="title"))
    assert "embedding template changed" in again.full_rebuild_reason
    assert again.embedded == first.count
    blocks = build_index(
        kb_docs, out, build_config(tiny_st_model, embed_template="title", pack_blocks=False)
    )
    assert "chunking settings changed" in blocks.full_rebuild_reason
    assert blocks.count >= first.count


def _with_token_limit(model: Path, tmp_path: Path, limit: int) -> Path:
    """A copy of `model` whose sentence-transformers config says `limit` tokens (as a ranker
    fine-tuned with a short context limit does)."""
    import shutil

    copy = tmp_path / f"model-{limit}"
    shutil.copytree(model, copy)
    config_file = copy / "sentence_bert_config.json"
    config = json.loads(config_file.read_text())
    config["max_seq_length"] = limit
    config_file.write_text(json.dumps(config))
    return copy


def test_passage_limit_raises_a_short_model_limit_to_what_the_model_can_read(
    tiny_st_model, tmp_path
):
    from kb.encoder import passage_limit

    short = _with_token_limit(tiny_st_model, tmp_path, 16)
    assert passage_limit(None) == 256  # the bundled MiniLM's own limit
    assert passage_limit(short) == 128  # 256 wanted; the tiny model has 128 positions
    assert passage_limit(short, 24) == 24
    with pytest.raises(KBInputError, match="max_seq_length 200 is more tokens than"):
        passage_limit(short, 200)


def test_passages_are_embedded_at_the_passage_limit_not_the_query_limit(
    kb_docs, tiny_st_model, tmp_path, monkeypatch
):
    import numpy as np

    from kb.encoder import Encoder

    short = _with_token_limit(tiny_st_model, tmp_path, 16)
    embedded = []
    write_passages = kb.build._write_passages

    def recording(*args):
        embedded.extend(write_passages(*args))
        return embedded

    monkeypatch.setattr(kb.build, "_write_passages", recording)
    out = tmp_path / "index"
    report = build_index(kb_docs, out, build_config(short))
    assert report.max_seq_length == 128
    manifest = _manifest(out)
    assert manifest["embedding"]["max_seq_length"] == 128
    assert manifest["model"]["max_seq_length"] == 16  # queries keep the model's own limit
    stored = np.load(out / manifest["artifacts"]["embeddings"])
    encoder = Encoder.load(short, precision="fp32")
    assert encoder.max_length == 16
    long_rows = [
        i
        for i, text in enumerate(embedded)
        if len(encoder.tokenize([text], 128)["input_ids"][0]) > 16
    ]
    assert long_rows  # passages longer than the query limit exist
    texts = [embedded[i] for i in long_rows]
    assert np.allclose(stored[long_rows], encoder.encode(texts, max_length=128), atol=1e-5)
    assert not np.allclose(stored[long_rows], encoder.encode(texts), atol=1e-3)


def test_a_new_passage_limit_re_embeds_everything(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    first = build_index(kb_docs, out, build_config(tiny_st_model))
    same = build_index(kb_docs, out, build_config(tiny_st_model, max_seq_length=128))
    assert same.embedded == 0  # 128 is what the default resolved to: nothing changes
    shorter = build_index(kb_docs, out, build_config(tiny_st_model, max_seq_length=32))
    assert "passage token limit changed (128 -> 32)" in shorter.full_rebuild_reason
    assert shorter.embedded == first.count


def test_an_index_from_before_the_passage_limit_is_reused_at_the_model_limit(
    kb_docs, tiny_st_model, tmp_path
):
    out = tmp_path / "index"
    first = build_index(kb_docs, out, build_config(tiny_st_model))
    manifest = _manifest(out)
    del manifest["embedding"]["max_seq_length"]  # as written before the option existed
    (out / "manifest.json").write_text(json.dumps(manifest))
    again = build_index(kb_docs, out, build_config(tiny_st_model))
    assert again.full_rebuild_reason is None and again.embedded == 0
    assert first.count == again.count
