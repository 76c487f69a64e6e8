"""Config validation quotes the bad value."""

from __future__ import annotations

import pytest

from kb import BuildConfig, KBInputError, SearchConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_words", 3),
        ("overlap_words", 80),  # not below half of max_words (150)
        ("index_type", "ivf"),
        ("precision", "fp8"),
        ("batch_size", 0),
        ("hnsw_threshold", 0),
        ("workers", 0),
        ("embed_template", "heading"),
        ("keyword_weight", -0.5),
        ("keyword_floor", 1.5),
        ("keyword_floor", -0.1),
        ("max_seq_length", 4),
        ("max_seq_length", 64.0),
        ("max_seq_length", True),
    ],
)
def test_build_config_rejects_bad_values(field, value):
    with pytest.raises(KBInputError, match=field) as err:
        BuildConfig(**{field: value})
    assert repr(value) in str(err.value)


def test_search_config_rejects_bad_values():
    with pytest.raises(KBInputError, match="-1"):
        SearchConfig(keyword_weight=-1)
    with pytest.raises(KBInputError, match="candidates"):
        SearchConfig(candidates=0)
    with pytest.raises(KBInputError, match="keyword_floor must be between 0 and 1.*2"):
        SearchConfig(keyword_floor=2)
    with pytest.raises(KBInputError, match="query_threads must be positive or None, got 0"):
        SearchConfig(query_threads=0)
    with pytest.raises(
        KBInputError, match="query_precision must be auto, fp32 or bf16, got 'int8'"
    ):
        SearchConfig(query_precision="int8")


def test_defaults_are_valid():
    config = BuildConfig()
    assert config.chunking() == {
        "max_words": config.max_words,
        "overlap_words": config.overlap_words,
        "pack_blocks": config.pack_blocks,
    }
    assert SearchConfig().candidates == 50
    assert SearchConfig().keyword_weight is None  # the index's own weight
    assert SearchConfig().keyword_floor is None  # the index's own floor
