"""`kb build --questions FILE`: choose an index's settings on the company's own questions.

A small grid is tried: each chunking (passage size, block packing, embedding template) is
built into a temporary folder next to the output and searched with each keyword weight;
the questions are encoded once. The setting with the best mean of Recall@1 and Recall@5
(ties: MRR, then the order of the grid, which starts with the defaults) is built into the
output folder, and the manifest keeps every measured point under "tuning" and the chosen
weight under "search" (what `KnowledgeBase.load` searches with).

The grid is small on purpose: a handful of points cannot overfit a hundred questions much,
and every chunking costs one embedding pass of the whole collection. The defaults it
starts from were chosen across four knowledge bases (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from kb.build import BuildReport, build_index
from kb.config import BuildConfig
from kb.errors import KBInputError
from kb.evaluate import evaluate_embedded, load_questions


@dataclass(frozen=True)
class TuneGrid:
    """The settings `tune_build` tries; each chunking is tried with every keyword weight."""

    # (max_words, pack_blocks, embed_template); the first is the default setting
    chunkings: tuple[tuple[int, bool, str], ...] = (
        (60, True, "title_section"),
        (100, True, "title_section"),
        (60, False, "title"),
    )
    keyword_weights: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)

    def __post_init__(self) -> None:
        if not self.chunkings or not self.keyword_weights:
            raise KBInputError("the tuning grid needs at least one chunking and one weight")
        for chunking in self.chunkings:
            BuildConfig(
                max_words=chunking[0],
                overlap_words=chunking[0] // 5,
                pack_blocks=chunking[1],
                embed_template=chunking[2],
            )
        for weight in self.keyword_weights:
            BuildConfig(keyword_weight=weight)


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
                for weight in grid.keyword_weights:
                    kb.keyword_weight = weight
                    result = evaluate_embedded(kb, questions, embeddings)
                    points.append(
                        {
                            "max_words": settings.max_words,
                            "pack_blocks": settings.pack_blocks,
                            "embed_template": settings.embed_template,
                            "keyword_weight": weight,
                            "passages": len(kb),
                            **{key: round(value, 4) for key, value in result.items()},
                        }
                    )
            finally:
                kb.close()
            shutil.rmtree(index_dir, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    best = max(
        points,
        key=lambda p: (p["recall_at_1"] + p["recall_at_5"], p["mrr"], -points.index(p)),
    )
    chosen = replace(
        _settings(config, (best["max_words"], best["pack_blocks"], best["embed_template"])),
        keyword_weight=best["keyword_weight"],
    )
    tuning = {
        "questions": Path(questions_path).name,
        "n": len(questions),
        "criterion": "mean of recall_at_1 and recall_at_5, then mrr",
        "chosen": {
            key: best[key]
            for key in ("max_words", "pack_blocks", "embed_template", "keyword_weight")
        },
        "points": points,
    }
    report = build_index(docs_dir, out_dir, chosen, tuning=tuning)
    return report, tuning


__all__ = ["TuneGrid", "tune_build"]
