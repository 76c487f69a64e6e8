"""`kb build --questions FILE`: choose an index's settings on the company's own questions.

A small grid is tried: each chunking (passage size, block packing, embedding template) is
built into a temporary folder next to the output and searched with each keyword weight and
keyword floor; the questions are encoded once. The setting with the best mean of Recall@1
and Recall@5 (ties: MRR, then the default setting, then the order of the grid) is built
into the output folder, and the manifest keeps every measured point under "tuning" and the
chosen weight and floor under "search" (what `KnowledgeBase.load` searches with).

The grid is small on purpose: a handful of points cannot overfit a hundred questions much,
and every chunking costs one embedding pass of the whole collection. The defaults it
starts from were chosen on three knowledge bases and checked on a fourth
(docs/benchmarks.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from kb.build import BuildReport, build_index
from kb.config import DEFAULT_KEYWORD_FLOOR, DEFAULT_KEYWORD_WEIGHT, BuildConfig
from kb.errors import KBInputError
from kb.evaluate import evaluate_embedded, load_questions


@dataclass(frozen=True)
class TuneGrid:
    """The settings `tune_build` tries: each chunking with every keyword weight and, for a
    weight above 0, every keyword floor."""

    # (max_words, pack_blocks, embed_template); the first is the default setting
    chunkings: tuple[tuple[int, bool, str], ...] = (
        (150, True, "title_section"),
        (60, True, "title_section"),
        (60, False, "title"),
    )
    keyword_weights: tuple[float, ...] = (0.0, 0.1, 0.2, DEFAULT_KEYWORD_WEIGHT, 0.3)
    keyword_floors: tuple[float, ...] = (0.0, DEFAULT_KEYWORD_FLOOR)

    def __post_init__(self) -> None:
        if not self.chunkings or not self.keyword_weights or not self.keyword_floors:
            raise KBInputError(
                "the tuning grid needs at least one chunking, one weight and one floor"
            )
        for chunking in self.chunkings:
            BuildConfig(
                max_words=chunking[0],
                overlap_words=chunking[0] // 5,
                pack_blocks=chunking[1],
                embed_template=chunking[2],
            )
        for weight in self.keyword_weights:
            BuildConfig(keyword_weight=weight)
        for floor in self.keyword_floors:
            BuildConfig(keyword_floor=floor)


# the fields of a tuning point that make up a setting
_CHOSEN = ("max_words", "pack_blocks", "embed_template", "keyword_weight", "keyword_floor")


def _settings(config: BuildConfig, chunking: tuple[int, bool, str]) -> BuildConfig:
    size, pack, template = chunking
    overlap = config.overlap_words if size == config.max_words else size // 5
    return replace(
        config, max_words=size, overlap_words=overlap, pack_blocks=pack, embed_template=template
    )


def tune_build(
    docs_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    questions_path: str | os.PathLike,
    config: BuildConfig | None = None,
    grid: TuneGrid | None = None,
) -> tuple[BuildReport, dict]:
    """Build `out_dir` from `docs_dir` with the grid point that answers `questions_path`
    best; returns the build report and the tuning record stored in the manifest.

    Raises KBInputError for a bad questions file or a question whose article is not in
    the documents.
    """
    from kb.knowledge_base import KnowledgeBase

    config = config or BuildConfig()
    grid = grid or TuneGrid()
    out_dir = Path(out_dir)
    questions = load_questions(questions_path)
    points: list[dict] = []
    embeddings = None
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".kb-tune-", dir=out_dir.parent))
    try:
        for n, chunking in enumerate(grid.chunkings):
            settings = _settings(config, chunking)
            index_dir = scratch / str(n)
            build_index(docs_dir, index_dir, replace(settings, index_type="flat"))
            kb = KnowledgeBase.load(index_dir)
            try:
                if embeddings is None:
                    known = kb.article_ids()
                    for _, article, lineno in questions:
                        if article not in known:
                            raise KBInputError(
                                f"{questions_path}:{lineno}: article {article!r} is not in "
                                f"the documents under {docs_dir}: fix the id or add the article"
                            )
                    embeddings = kb.encode([q for q, _, _ in questions])
                for weight in dict.fromkeys(grid.keyword_weights):
                    # the floor scales the keyword part: nothing to vary without one
                    floors = dict.fromkeys(grid.keyword_floors if weight > 0 else (0.0,))
                    for floor in floors:
                        kb.keyword_weight, kb.keyword_floor = weight, floor
                        result = evaluate_embedded(kb, questions, embeddings)
                        points.append(
                            {
                                "max_words": settings.max_words,
                                "pack_blocks": settings.pack_blocks,
                                "embed_template": settings.embed_template,
                                "keyword_weight": weight,
                                "keyword_floor": floor,
                                "passages": len(kb),
                                **{key: round(value, 4) for key, value in result.items()},
                            }
                        )
            finally:
                kb.close()
            shutil.rmtree(index_dir, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    default = (
        config.max_words,
        config.pack_blocks,
        config.embed_template,
        config.keyword_weight,
        config.keyword_floor,
    )

    def is_default(point: dict) -> bool:
        return tuple(point[key] for key in _CHOSEN) == default

    best = max(
        points,
        key=lambda p: (
            p["recall_at_1"] + p["recall_at_5"],
            p["mrr"],
            is_default(p),
            -points.index(p),
        ),
    )
    chosen = replace(
        _settings(config, (best["max_words"], best["pack_blocks"], best["embed_template"])),
        keyword_weight=best["keyword_weight"],
        keyword_floor=best["keyword_floor"],
    )
    tuning = {
        "questions": Path(questions_path).name,
        "n": len(questions),
        "criterion": "mean of recall_at_1 and recall_at_5, then mrr",
        "chosen": {key: best[key] for key in _CHOSEN},
        "points": points,
    }
    report = build_index(docs_dir, out_dir, chosen, tuning=tuning)
    return report, tuning


__all__ = ["TuneGrid", "tune_build"]
