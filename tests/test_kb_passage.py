"""kb/passage.py: the passage record, its heading and its JSON form."""

from __future__ import annotations

import json

import pytest

from kb import KBInputError, Passage


def test_json_round_trip():
    p = Passage("billing/refunds", "Refunds", "How long", "billing/refunds.md", 0.5, "Five days.")
    data = json.loads(json.dumps(p.to_dict()))
    assert data == {
        "article_id": "billing/refunds",
        "title": "Refunds",
        "section": "How long",
        "source": "billing/refunds.md",
        "score": 0.5,
        "text": "Five days.",
    }
    assert Passage.from_dict(data) == p


@pytest.mark.parametrize(
    ("title", "section", "heading"),
    [
        ("Refunds", "How long", "Refunds › How long"),
        ("Refunds", "", "Refunds"),
        ("Refunds", "Refunds", "Refunds"),  # a first heading that repeats the title
        ("Returns", "Damaged > Photos", "Returns › Damaged > Photos"),
    ],
)
def test_heading(title, section, heading):
    assert Passage("a", title, section, "a.md", 0.1).heading == heading


def test_from_dict_reads_the_compact_form_of_older_logs():
    p = Passage.from_dict({"article_id": "a/b", "section": "Late", "score": 1})
    assert p == Passage("a/b", "", "Late", "", 1.0, "")
    assert isinstance(p.score, float)


def test_from_dict_ignores_keys_of_a_later_version():
    p = Passage.from_dict({"article_id": "a", "score": 0.2, "position": 3})
    assert p.article_id == "a"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": 0.1}, "lacks article_id"),
        ({"article_id": "a"}, "lacks score"),
        ({"article_id": "a", "score": "high"}, "'a': score must be a number, got 'high'"),
        ({"article_id": "a", "score": True}, "score must be a number"),
        ({"article_id": "a", "score": 0.1, "title": 3}, "'a': title must be a string, got 3"),
        (["a", 0.1], "must be a JSON object"),
    ],
)
def test_from_dict_names_what_is_wrong(data, message):
    with pytest.raises(KBInputError, match=message):
        Passage.from_dict(data)
