"""Configuration of the two entry points: building an index and searching one."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from kb.errors import KBInputError

INDEX_TYPES = ("auto", "flat", "hnsw")
PRECISIONS = ("auto", "fp32", "autocast", "bf16")
EMBED_TEMPLATE_NAMES = ("title_section", "title", "text")  # keys of kb.chunking.EMBED_TEMPLATES
# BM25 weight in hybrid scoring when neither the index nor the caller says otherwise; chosen
# with the passage size and the floor on three knowledge bases of different voices and
# checked on a fourth written afterwards (docs/benchmarks.md, issue 10)
DEFAULT_KEYWORD_WEIGHT = 0.25
# BM25 is divided by max(best passage's score, this x the query's ideal score); 0 = by the
# best passage's score alone (see kb.knowledge_base.hybrid_ranking)
DEFAULT_KEYWORD_FLOOR = 0.4
# tokens a passage is embedded from at least, unless BuildConfig.max_seq_length says otherwise:
# the bundled MiniLM's own limit. A ranker fine-tuned at 48 tokens reads its passages better
# at 256 on all four knowledge bases measured (docs/benchmarks.md, issue 10)
PASSAGE_TOKENS = 256


@dataclass
class BuildConfig:
    """How `build_index` chunks, embeds and indexes a docs folder.

    >>> BuildConfig(max_words=80).overlap_words
    16
    """

    model_path: str | None = None  # sentence-transformers directory; None = the bundled MiniLM
    max_words: int = 150  # passage size limit in words (tables and code count their words too)
    # whole trailing sentences (up to this many words) repeated in the next passage; None = a
    # fifth of max_words
    overlap_words: int | None = None
    # True: a passage packs consecutive blocks (paragraphs, lists, tables) of a section while
    # they fit; False: every block starts its own passage
    pack_blocks: bool = True
    # what is embedded before a passage's text: "title_section", "title" or "text"
    # (keywords always index title, section and text)
    embed_template: str = "title_section"
    # BM25 weight the index is searched with unless SearchConfig says otherwise (manifest
    # "search"); `kb build --questions` replaces it with the weight it tuned
    keyword_weight: float = DEFAULT_KEYWORD_WEIGHT
    # fraction of the query's ideal BM25 score below which the best passage's score is not
    # taken as "a full match" (manifest "search"); 0 = the best passage is always one;
    # `kb build --questions` replaces it with the floor it tuned
    keyword_floor: float = DEFAULT_KEYWORD_FLOOR
    # tokens of a passage the encoder reads; None = the model's own limit (its
    # max_seq_length, which also bounds queries) raised to PASSAGE_TOKENS, so that a model
    # fine-tuned with a short limit for fast queries (the ranker: 48 tokens) still reads a
    # whole passage (kb.encoder.passage_limit); at most the model's position embeddings
    max_seq_length: int | None = None
    index_type: str = "auto"  # "flat" (exact), "hnsw" (approximate) or "auto" (by hnsw_threshold)
    hnsw_threshold: int = 20_000  # with index_type="auto", HNSW from this many passages on
    hnsw_m: int = 32  # HNSW graph degree: more = better recall, bigger index
    hnsw_ef_construction: int = 128  # HNSW build-time beam width
    hnsw_ef_search: int = 128  # HNSW search-time beam width (stored in the manifest)
    recall_sample: int = 500  # passages used as queries to measure HNSW recall@10 against exact
    precision: str = "auto"  # build encoding: fp32, autocast (bf16 autocast), bf16 (bf16 weights)
    batch_size: int = 32  # passages per forward pass (batches are length-sorted)
    # embedding processes of one torch thread each (one per core); None = every core this
    # process may use. Fewer than PARALLEL_MIN_TEXTS passages are embedded in-process with
    # this many torch threads.
    workers: int | None = None
    show_progress: bool = True  # tqdm progress bar on stderr while embedding
    seed: int = 0  # seed of the recall sample

    def __post_init__(self) -> None:
        if self.max_words < 10:
            raise KBInputError(f"max_words must be at least 10, got {self.max_words!r}")
        if self.overlap_words is None:
            self.overlap_words = self.max_words // 5
        if not 0 <= self.overlap_words < self.max_words // 2:
            raise KBInputError(
                f"overlap_words must be >= 0 and below half of max_words ({self.max_words}), "
                f"got {self.overlap_words!r}"
            )
        if self.embed_template not in EMBED_TEMPLATE_NAMES:
            raise KBInputError(
                f"embed_template must be one of {', '.join(EMBED_TEMPLATE_NAMES)}, "
                f"got {self.embed_template!r}"
            )
        _check_keyword_weight(self.keyword_weight)
        _check_keyword_floor(self.keyword_floor)
        if self.max_seq_length is not None and (
            isinstance(self.max_seq_length, bool)
            or not isinstance(self.max_seq_length, int)
            or self.max_seq_length < 8
        ):
            raise KBInputError(
                f"max_seq_length must be a whole number of tokens, at least 8, or None (the "
                f"model's own limit), got {self.max_seq_length!r}"
            )
        if self.index_type not in INDEX_TYPES:
            raise KBInputError(
                f"index_type must be one of {', '.join(INDEX_TYPES)}, got {self.index_type!r}"
            )
        if self.hnsw_threshold < 1:
            raise KBInputError(f"hnsw_threshold must be positive, got {self.hnsw_threshold!r}")
        for name in ("hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "batch_size"):
            if getattr(self, name) < 1:
                raise KBInputError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.recall_sample < 1:
            raise KBInputError(f"recall_sample must be positive, got {self.recall_sample!r}")
        if self.precision not in PRECISIONS:
            raise KBInputError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.workers is not None and self.workers < 1:
            raise KBInputError(f"workers must be positive or None, got {self.workers!r}")

    def chunking(self) -> dict:
        """The settings that decide passage boundaries (a change re-embeds every file)."""
        return {
            "max_words": self.max_words,
            "overlap_words": self.overlap_words,
            "pack_blocks": self.pack_blocks,
        }

    def to_dict(self) -> dict:
        """All fields, for the manifest."""
        return asdict(self)


@dataclass
class SearchConfig:
    """How a loaded `KnowledgeBase` ranks passages.

    >>> SearchConfig(keyword_weight=0.0).candidates
    50
    """

    # BM25 weight (max-normalised) added to the cosine; 0 = dense only; None = the weight
    # stored in the index's manifest (its build's, or the one `kb build --questions` tuned),
    # DEFAULT_KEYWORD_WEIGHT for an index that stores none
    keyword_weight: float | None = None
    # fraction of the query's ideal BM25 score that the normaliser never goes below (see
    # BuildConfig.keyword_floor); None = the index's manifest, 0 for an index that stores
    # none (built before the floor existed: searched as it was built and tuned)
    keyword_floor: float | None = None
    candidates: int = 50  # passages taken from each retriever (dense, keyword) before fusion
    hnsw_ef_search: int | None = None  # override the HNSW beam width stored in the manifest
    query_threads: int | None = 1  # torch threads for one query (1 avoids spikes on a busy CPU)
    # query encoder weights: "bf16" where the CPU has native bf16 (1.5x faster, cosine to fp32
    # >= 0.9999), else "fp32"; "fp32" or "bf16" to force one
    query_precision: str = "auto"

    def __post_init__(self) -> None:
        if self.query_precision not in ("auto", "fp32", "bf16"):
            raise KBInputError(
                f"query_precision must be auto, fp32 or bf16, got {self.query_precision!r}"
            )
        if self.query_threads is not None and self.query_threads < 1:
            raise KBInputError(
                f"query_threads must be positive or None, got {self.query_threads!r}"
            )
        if self.keyword_weight is not None:
            _check_keyword_weight(self.keyword_weight)
        if self.keyword_floor is not None:
            _check_keyword_floor(self.keyword_floor)
        if self.candidates < 1:
            raise KBInputError(f"candidates must be positive, got {self.candidates!r}")
        if self.hnsw_ef_search is not None and self.hnsw_ef_search < 1:
            raise KBInputError(
                f"hnsw_ef_search must be positive or None, got {self.hnsw_ef_search!r}"
            )


def _check_keyword_weight(weight: float) -> None:
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 10:
        raise KBInputError(f"keyword_weight must be between 0 and 10, got {weight!r}")


def _check_keyword_floor(floor: float) -> None:
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1:
        raise KBInputError(
            f"keyword_floor must be between 0 and 1 (a fraction of the query's ideal BM25 "
            f"score), got {floor!r}"
        )


__all__ = [
    "BuildConfig",
    "SearchConfig",
    "DEFAULT_KEYWORD_FLOOR",
    "DEFAULT_KEYWORD_WEIGHT",
    "EMBED_TEMPLATE_NAMES",
    "PASSAGE_TOKENS",
    "INDEX_TYPES",
    "PRECISIONS",
]
