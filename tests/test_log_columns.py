"""assistant/log/columns.py: values as column values, free text redacted exactly once."""

from __future__ import annotations

import json

import pytest

from assistant.log import columns
from assistant.log.columns import Redacted, Scrubber, finite, plain, redact_once, to_json
from assistant.redact import RedactionConfig
from assistant.reply import Candidate, Citation

EMAIL = "jo.secret@example.com"


@pytest.fixture
def redact_calls(monkeypatch):
    """Every text the redaction function is run on, in order."""
    calls: list[str] = []
    real = columns.redact

    def counting(text, config=None):
        calls.append(text)
        return real(text, config)

    monkeypatch.setattr(columns, "redact", counting)
    columns._forget()  # texts earlier tests redacted are remembered
    yield calls
    columns._forget()


def test_a_clean_text_is_redacted_once_and_remembered(redact_calls):
    config = RedactionConfig()
    first, again = (
        redact_once("Your parcel is on its way.", config),
        redact_once("Your parcel is on its way.", config),
    )
    assert first == again == "Your parcel is on its way." and again.kinds == ()
    assert redact_calls == ["Your parcel is on its way."]


def test_a_text_with_personal_data_is_never_remembered(redact_calls):
    config = RedactionConfig()
    for _ in range(2):
        out = redact_once(f"I am {EMAIL}", config)
        assert out == "I am [EMAIL]" and out.kinds == ("email",)
    assert redact_calls == [f"I am {EMAIL}"] * 2
    assert not any(EMAIL in text for text, _ in columns._CLEAN)
    # the config is part of what is remembered: found nothing with e-mails off
    off = redact_once(f"I am {EMAIL}", RedactionConfig(emails=False))
    assert off == f"I am {EMAIL}" and off.kinds == ()
    assert redact_once(f"I am {EMAIL}", config) == "I am [EMAIL]"


def test_redact_once_marks_the_text_and_keeps_the_kinds():
    out = redact_once(f"mail {EMAIL} or call +1 (555) 010-4242", RedactionConfig())
    assert out == "mail [EMAIL] or call [PHONE]" and isinstance(out, Redacted)
    assert out.kinds == ("email", "phone")


def test_a_redacted_text_is_not_redacted_again(redact_calls):
    config = RedactionConfig()
    once = redact_once(f"I am {EMAIL}", config)
    scrub = Scrubber(config)
    assert scrub(once) == "I am [EMAIL]" and type(scrub(once)) is str
    assert scrub.found() == ["email"]  # the kinds travel with the text
    assert redact_calls == [f"I am {EMAIL}"]


def test_a_text_redacted_with_another_config_is_redacted_again(redact_calls):
    emails_off = redact_once(f"I am {EMAIL}", RedactionConfig(emails=False))
    assert emails_off == f"I am {EMAIL}"
    assert Scrubber(RedactionConfig())(emails_off) == "I am [EMAIL]"
    assert len(redact_calls) == 2


def test_string_operations_drop_the_marker_so_the_log_redacts_again():
    once = redact_once("hello", RedactionConfig())
    joined = once + f" {EMAIL}"
    assert not isinstance(joined, Redacted)
    assert Scrubber(RedactionConfig())(joined) == "hello [EMAIL]"


def test_plain_keeps_every_field_of_a_record_and_scrubs_strings():
    scrub = Scrubber(RedactionConfig())
    citation = Citation("a/b", "Title", "Sec", "a/b.md", 0.5, f"write to {EMAIL}")
    value = plain({"c": [Candidate("x", 0.25, ["i"])], "cite": citation, "t": (1, 2)}, scrub)
    assert value == {
        "c": [
            {
                "text": "x",
                "score": 0.25,
                "intents": ["i"],
                "kind": "safe",
                "sendable": True,
                "note": "",
                "entry_id": "",
            }
        ],
        "cite": {
            "article_id": "a/b",
            "title": "Title",
            "section": "Sec",
            "source": "a/b.md",
            "score": 0.5,
            "text": "write to [EMAIL]",
        },
        "t": [1, 2],
    }
    assert scrub.found() == ["email"]


def test_non_finite_numbers_become_null():
    np = pytest.importorskip("numpy")
    assert plain([float("nan"), float("inf"), np.float32(0.5), np.array([1, 2])]) == [
        None,
        None,
        0.5,
        [1, 2],
    ]
    assert finite(float("nan")) is None and finite(np.float64(2.5)) == 2.5 and finite(None) is None
    assert to_json(None) is None and json.loads(to_json({"a": (1,)})) == {"a": [1]}
