"""End to end with the real bundled MiniLM: the right article comes first."""

from __future__ import annotations

import pytest
from kb_fixtures import DATA

from kb import BuildConfig, KnowledgeBase, SearchConfig, build_index

QUESTIONS = [
    ("How many days until the money is back on my credit card?", "billing/refunds"),
    ("Where can I download a PDF invoice for my order?", "billing/invoices"),
    ("How much does next day express shipping cost?", "shipping/delivery"),
    ("I forgot my password and the reset email never came", "account/password"),
    ("Do gift cards expire?", "faq/gift-cards"),
    ("What time can I call support on a Saturday?", "faq/opening-hours"),
    ("My kettle is noisy because of limescale, how do I clean it?", "guides/descaling"),
]


@pytest.mark.e2e
@pytest.mark.parametrize("keyword_weight", [0.0, SearchConfig().keyword_weight])
def test_minilm_puts_the_right_article_first(tmp_path_factory, keyword_weight):
    out = tmp_path_factory.getbasetemp() / "minilm-index"
    if not (out / "manifest.json").exists():
        report = build_index(DATA, out, BuildConfig(show_progress=False))
        assert report.articles == 7
    kb = KnowledgeBase.load(out, config=SearchConfig(keyword_weight=keyword_weight))
    try:
        top = [kb.search(question, k=1)[0].article_id for question, _ in QUESTIONS]
    finally:
        kb.close()
    assert top == [article for _, article in QUESTIONS]
