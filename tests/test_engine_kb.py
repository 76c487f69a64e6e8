"""The engine path the demo uses: a KB embedded with the ranker's own encoder.

`assistant demo` builds its KB index with `BuildConfig(model_path=<models>/ranker)`, and the
chat opens it with `open_service(models, kb, db)`. The engine then sees that the KB and the
ranker share a model and searches the KB with the ranker's context embedding: one forward pass
per message, and a follow-up is searched with what it refers to. Here that path runs for real,
with tiny random models (quality is irrelevant) and the policy set so that the KB answers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlite_utils

from assistant.config import EngineConfig
from assistant.service import open_service

DOCS = Path(__file__).parent / "data" / "kb"

# No bank reply can reach 1.0 and every passage clears -1.0: each answer comes from the KB.
KB_ANSWERS = EngineConfig(
    reply_threshold=1.0, reply_threshold_oos=1.0, kb_threshold=-1.0, kb_threshold_oos=-1.0
)


@pytest.fixture(scope="module")
def demo_layout(tmp_path_factory, intent_dir, ranker_dir) -> tuple[Path, Path]:
    """`models/{intent,ranker}` and a KB index built with the ranker's encoder, as the demo does."""
    from kb import BuildConfig, build_index

    home = tmp_path_factory.mktemp("demo-home")
    models = home / "models"
    shutil.copytree(intent_dir, models / "intent")
    shutil.copytree(ranker_dir, models / "ranker")
    build_index(
        str(DOCS),
        str(home / "kb"),
        BuildConfig(
            model_path=str(models / "ranker"),
            show_progress=False,
            precision="fp32",
            max_words=100,  # the sample articles' tables fit one passage at 100 words
            overlap_words=20,
        ),
    )
    return models, home / "kb"


@pytest.fixture
def service(demo_layout, tmp_path, monkeypatch):
    models, kb_dir = demo_layout
    svc = open_service(models, kb_dir, tmp_path / "log.db", config=KB_ANSWERS)

    # The KB encodes text only through `encode` (its `search` calls it too). With the shared
    # encoder it must never need to: a call here means a second model and a second forward pass.
    def own_encoder(*args, **kwargs):
        raise AssertionError("the KB encoded the query with its own encoder")

    monkeypatch.setattr(svc.engine.kb, "encode", own_encoder)
    yield svc
    svc.close()


def shared_search(engine, history: list[tuple[str, str]], message: str):
    """The passages for `message` searched with the ranker's context embedding."""
    ranker = engine.ranker
    context = ranker.encode_contexts([ranker.context_text([*history, ("customer", message)])])[0]
    return engine.kb.search_embedding(
        ranker.dense_part(context), k=engine.config.kb_k, text=message
    )


def cited(passages, n: int) -> list[tuple[str, str, float]]:
    return [(p.article_id, p.heading, round(p.score, 5)) for p in passages[:n]]


def test_demo_kb_is_embedded_with_the_rankers_encoder(service, demo_layout):
    models, _ = demo_layout
    engine = service.engine
    assert engine.kb is not None
    assert engine.kb.model_path.resolve() == (models / "ranker").resolve()
    assert Path(engine.ranker.path).resolve() == (models / "ranker").resolve()
    # The index holds the dense part of the ranker's embeddings (the lexical features are not
    # part of a KB vector).
    context = engine.ranker.encode_contexts(["customer: refund"])
    assert engine.kb.dimension == engine.ranker.dense_part(context[0]).shape[-1]


def test_kb_answers_with_citations_through_the_shared_encoder(service, tmp_path):
    engine = service.engine
    cid = service.new_conversation()
    message = "how long until my refund reaches my card?"
    reply = service.respond(cid, message)

    assert reply.source == "kb", reply.reason
    n = engine.config.n_citations
    assert len(reply.citations) == n
    assert cited(reply.citations, n) == cited(shared_search(engine, [], message), n)
    top = reply.citations[0]
    assert f"**{top.heading}**" in reply.reply and top.text.strip()[:40] in reply.reply
    assert top.article_id in engine.kb.article_ids()

    service.writer.flush(5)
    logged = list(
        sqlite_utils.Database(tmp_path / "log.db").query(
            "select source, citations from turns where conversation_id = ? and role = ?",
            [cid, "assistant"],
        )
    )
    assert [row["source"] for row in logged] == ["kb"]
    assert [c["article_id"] for c in json.loads(logged[0]["citations"])] == [
        c.article_id for c in reply.citations
    ]


def test_follow_up_is_searched_with_the_conversation(service):
    """The dense query is the ranker's context (newest turn first), not the message alone."""
    engine = service.engine
    cid = service.new_conversation()
    service.respond(cid, "I sent the kettle back last week")
    service.writer.flush(5)
    history = service.state(cid).history
    assert [role for role, _ in history][:1] == ["customer"] and len(history) == 2

    follow_up = "and how long does that take?"
    reply = service.respond(cid, follow_up)
    n = engine.config.n_citations
    with_context = shared_search(engine, history, follow_up)
    alone = shared_search(engine, [], follow_up)
    assert reply.source == "kb"
    assert cited(reply.citations, n) == cited(with_context, n)
    # Sanity: the context changes the query, so the check above could fail.
    assert [p.score for p in with_context] != [p.score for p in alone]
