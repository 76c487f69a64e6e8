"""Building (and incrementally rebuilding) an index directory from a docs folder.

`build_index` runs these steps, one function each:

0. scan the folder and hash every file; read what the previous build in `out_dir` offers
   (`_Before`: reusable when the model, chunking, template and precision are the same);
1. `_collect_passages`: reuse the passages and embedding rows of files whose hash is
   unchanged, parse and chunk the rest; an article id belongs to the first file that has it;
2. `_write_passages`: write the passage store and the BM25 keyword index;
3. `_embeddings`: embed the new passages, copy the reused rows;
4. `_faiss_index`: build the FAISS index from the full embedding matrix;
5. `_write_vectors`, then `manifest.json` atomically (the commit point). `_new_build` names
   the new files and removes them on failure, or the previous build's files on success.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from kb.bm25 import KeywordIndex
from kb.chunking import EMBED_TEMPLATES, Chunk, chunk_document
from kb.config import BuildConfig
from kb.documents import Skipped, SourceFile, parse_file, scan_folder
from kb.embedder import Embedder
from kb.encoder import passage_limit, resolve_precision
from kb.errors import KBError, KBInputError
from kb.index import build_faiss_index, choose_index_type, recall_at_10, write_faiss_index
from kb.manifest import (
    CHECKSUMS,
    MANIFEST_FILE,
    file_checksums,
    read_manifest,
    verify_files,
    write_manifest,
)
from kb.paths import bundled_model_path, model_fingerprint, resolve_model_path
from kb.store import PassageStore, write_store

_ARTIFACT = re.compile(
    r"^(passages|embeddings|index|keywords)\.[0-9a-f]{12}\.(sqlite|npy|faiss|npz)$"
)
_NAMES_SHOWN = 10


@dataclass
class BuildReport:
    """What a build did: file changes, passage counts, index type and timings."""

    out_dir: Path
    count: int  # passages in the index
    articles: int  # distinct article ids in the index
    dimension: int  # embedding dimension
    index_type: str  # "flat" or "hnsw"
    recall_at_10: float | None  # HNSW recall@10 against exact search; None for flat
    added: list[str] = field(default_factory=list)  # new files
    changed: list[str] = field(default_factory=list)  # files whose content changed
    removed: list[str] = field(default_factory=list)  # files of the previous build now gone
    unchanged: list[str] = field(default_factory=list)  # same content as in the previous build
    skipped: list[Skipped] = field(default_factory=list)  # unreadable or unusable files
    embedded: int = 0  # passages embedded by this build
    embed_seconds: float = 0.0  # time spent embedding
    workers: int | None = None  # embedding processes (None when nothing was embedded)
    max_seq_length: int | None = None  # tokens of a passage the encoder reads
    seconds: float = 0.0  # total build time
    full_rebuild_reason: str | None = None  # why a previous index was not reused

    @property
    def passages_per_second(self) -> float | None:
        """Embedding throughput of this build (None when nothing was embedded)."""
        if not self.embedded or self.embed_seconds <= 0:
            return None
        return self.embedded / self.embed_seconds

    def to_dict(self) -> dict:
        """A JSON-ready view of the report."""
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        data["passages_per_second"] = self.passages_per_second
        return data

    def summary(self) -> str:
        """Human-readable lines: changes with file names, then the index figures."""

        def names(items: list[str]) -> str:
            shown = ", ".join(items[:_NAMES_SHOWN])
            more = len(items) - _NAMES_SHOWN
            return shown + (f", ... and {more} more" if more > 0 else "")

        def files(n: int) -> str:
            return f"{n} file" + ("" if n == 1 else "s")

        lines = []
        if self.full_rebuild_reason:
            lines.append(f"full rebuild: {self.full_rebuild_reason}")
        for label, items in (
            ("added", self.added),
            ("changed", self.changed),
            ("removed", self.removed),
        ):
            lines.append(f"{label}: {files(len(items))}" + (f": {names(items)}" if items else ""))
        how = "re-embedded, see above" if self.full_rebuild_reason else "embeddings reused"
        lines.append(f"unchanged: {files(len(self.unchanged))} ({how})")
        skipped = [f"{s.path} ({s.reason})" for s in self.skipped]
        lines.append(f"skipped: {len(skipped)}" + (f": {names(skipped)}" if skipped else ""))
        speed = self.passages_per_second
        lines.append(
            f"embedded {self.embedded} passages in {self.embed_seconds:.1f}s"
            + (f" ({speed:.0f} passages/s, {self.workers} workers)" if speed else "")
        )
        lines.append(
            f"index: {self.index_type}, {self.count} passages from {self.articles} articles, "
            f"dimension {self.dimension} -> {self.out_dir}"
        )
        if self.recall_at_10 is not None:
            lines.append(f"HNSW recall@10 vs exact search: {self.recall_at_10:.3f}")
        return "\n".join(lines)


@dataclass
class _Previous:
    """What can be reused from the index already in the output folder."""

    manifest: dict
    chunks: dict[str, list[tuple[Chunk, int]]]  # source -> [(passage, embedding row)]
    embeddings: np.ndarray


def _load_previous(out_dir: Path, settings: dict) -> tuple[_Previous | None, str | None]:
    """The previous build if compatible with `settings`, else (None, reason or None)."""
    if not (out_dir / MANIFEST_FILE).exists():
        return None, None
    try:
        manifest = read_manifest(out_dir, "kb-index")
        old = {
            "model_fingerprint": manifest["model"].get("fingerprint"),
            "chunking": manifest.get("chunking"),
            "embed_template": manifest.get("embedding", {}).get("template"),
            "precision": manifest.get("embedding", {}).get("precision"),
            # absent before the option existed: those builds used the model's own limit
            "max_seq_length": manifest.get("embedding", {}).get(
                "max_seq_length", manifest.get("model", {}).get("max_seq_length")
            ),
        }
        for key, label in (
            ("model_fingerprint", "the model changed"),
            ("chunking", "the chunking settings changed"),
            ("embed_template", "the embedding template changed"),
            ("precision", "the encoding precision changed"),
            ("max_seq_length", "the passage token limit changed"),
        ):
            if old[key] != settings[key]:
                return None, f"{label} ({old[key]} -> {settings[key]})"
        artifacts = manifest["artifacts"]
        verify_files(
            out_dir, manifest, "kb-index", (artifacts["passages"], artifacts["embeddings"])
        )
        store = PassageStore(out_dir / artifacts["passages"])
        try:
            rows = list(store.rows())
        finally:
            store.close()
        embeddings = np.load(out_dir / artifacts["embeddings"], allow_pickle=False)
    except (KBError, OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"the previous index cannot be reused ({exc})"
    if embeddings.ndim != 2 or embeddings.shape[0] != len(rows):
        return None, "the previous index is inconsistent (embeddings and passages differ)"
    chunks: dict[str, list[tuple[Chunk, int]]] = {}
    for row_id, article_id, title, section, source, position, text in rows:
        chunk = Chunk(article_id, title, section, source, position, text)
        chunks.setdefault(source, []).append((chunk, row_id))
    return _Previous(manifest, chunks, embeddings), None


def _previous_files(out_dir: Path) -> dict:
    """The per-file entries of the manifest in `out_dir`, or {} when there is none."""
    try:
        files = read_manifest(out_dir, "kb-index")["files"]
    except KBError:
        return {}
    return files if isinstance(files, dict) else {}


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask), at least one.

    The build uses all of them, one single-threaded embedding process each, even when other
    processes are busy: measured on 2 cores with one busy neighbour, two workers embedded
    75 passages/s, one 59/s (and one process with 2 torch threads 35/s, as its threads wait
    on each other).
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)


def build_index(
    docs_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    config: BuildConfig | None = None,
    tuning: dict | None = None,
) -> BuildReport:
    """Build or update the index in `out_dir` from the documents under `docs_dir`.

    Only files that are new or changed since the previous build in `out_dir` are embedded;
    files gone from `docs_dir` disappear from the index. `tuning`, when given, is recorded
    in the manifest (what `kb.tune` measured to choose `config`). Raises KBInputError when
    the docs folder is missing or holds no readable document.
    """
    start = time.perf_counter()
    config = config or BuildConfig()
    docs_dir, out_dir = Path(docs_dir), Path(out_dir)
    if not docs_dir.is_dir():
        raise KBInputError(f"docs folder {docs_dir} does not exist or is not a folder")
    model_path, settings = _settings(config)
    sources, skipped = scan_folder(docs_dir, exclude=out_dir)
    before = _Before.read(out_dir, settings)
    # The encoder loads in its own process while this one parses, chunks and writes the
    # passage store and keyword index (see kb.embedder); the process ends with the build.
    embedder = None
    if not all(map(before.reusable, sources)):
        embedder = Embedder(model_path, settings["precision"])
    with embedder or nullcontext():
        report = BuildReport(out_dir, 0, 0, 0, "flat", None, full_rebuild_reason=before.reason)
        report.max_seq_length = settings["max_seq_length"]
        files = _collect_passages(sources, before, config, skipped, report)
        chunks = [chunk for file in files for chunk, _ in file.passages]
        if not chunks:
            raise _nothing_readable(docs_dir, skipped)
        with _new_build(out_dir) as (build_id, artifacts):
            texts = _write_passages(out_dir, artifacts, chunks, config.embed_template)
            embeddings, encoder_info = _embeddings(files, texts, before, embedder, config, report)
            index = _faiss_index(embeddings, config, report)
            _write_vectors(out_dir, artifacts, embeddings, index)
            report.seconds = time.perf_counter() - start
            manifest = _manifest(
                config,
                model_path,
                settings,
                encoder_info,
                before.previous,
                report,
                files,
                artifacts,
                build_id,
                tuning,
            )
            # checked by KnowledgeBase.load, so a damaged file is named instead of read
            manifest[CHECKSUMS] = file_checksums(out_dir, artifacts.values())
            manifest["model"]["path"] = _model_reference(model_path, out_dir)
            manifest["model"]["built_path"] = str(model_path)  # where it was: the fallback
            write_manifest(out_dir, "kb-index", **manifest)  # the commit point
        return report


def _settings(config: BuildConfig) -> tuple[Path, dict]:
    """The model directory, and what the embeddings depend on: an earlier build is reused
    only when all of it is the same."""
    model_path = resolve_model_path(config.model_path)
    precision = resolve_precision(config.precision)
    return model_path, {
        "model_fingerprint": model_fingerprint(model_path),
        "chunking": config.chunking(),
        "embed_template": EMBED_TEMPLATES[config.embed_template],
        "precision": precision,
        "max_seq_length": passage_limit(model_path, config.max_seq_length),
    }


@dataclass
class _Before:
    """The build already in the output folder, as far as this build can use it."""

    files: dict  # its manifest's per-file entries (for the report, even when not reusable)
    previous: _Previous | None  # its passages and embeddings, when compatible
    reason: str | None  # why it is not reused (None when reused or when there is none)

    @classmethod
    def read(cls, out_dir: Path, settings: dict) -> _Before:
        previous, reason = _load_previous(out_dir, settings)
        return cls(_previous_files(out_dir), previous, reason)

    def same_content(self, src: SourceFile) -> bool:
        """True when `src` has the bytes it had in the previous build."""
        old = self.files.get(src.rel)
        return isinstance(old, dict) and old.get("sha256") == src.sha256

    def reusable(self, src: SourceFile) -> bool:
        """True when the passages and embeddings of `src` can be taken from the previous build."""
        return bool(self.previous and self.same_content(src) and src.rel in self.previous.chunks)

    def status(self, src: SourceFile) -> str:
        """ "unchanged", "changed" or "added", as the report lists `src`."""
        if self.same_content(src):
            return "unchanged"
        return "changed" if self.files.get(src.rel) else "added"


class _FilePassages(NamedTuple):
    """The passages one file contributes, each with its row in the previous build's
    embeddings (None when it is to be embedded)."""

    rel: str
    sha256: str
    passages: list[tuple[Chunk, int | None]]


def _collect_passages(
    sources: list[SourceFile],
    before: _Before,
    config: BuildConfig,
    skipped: list[Skipped],
    report: BuildReport,
) -> list[_FilePassages]:
    """Step 1: every file's passages, reused or parsed and chunked again; an article id
    belongs to the first file that has it. Fills the report's file lists."""
    owners = _ArticleOwners(skipped)
    lists = {"added": report.added, "changed": report.changed, "unchanged": report.unchanged}
    files = []
    for src in sources:
        if before.reusable(src):
            passages = list(before.previous.chunks[src.rel])  # type: ignore[union-attr]
        else:
            passages = _parse(src, config, skipped)
        kept = owners.keep(src.rel, passages)
        if kept:
            lists[before.status(src)].append(src.rel)
            files.append(_FilePassages(src.rel, src.sha256, kept))
    report.skipped = sorted(skipped, key=lambda s: s.path)
    report.removed = sorted(set(before.files) - {file.rel for file in files})
    report.count = sum(len(file.passages) for file in files)
    report.articles = len({chunk.article_id for file in files for chunk, _ in file.passages})
    return files


def _parse(
    src: SourceFile, config: BuildConfig, skipped: list[Skipped]
) -> list[tuple[Chunk, int | None]]:
    """The passages of a new or changed file (none embedded yet); what cannot be read goes
    to `skipped`."""
    docs, bad = parse_file(src)
    skipped.extend(bad)
    return [
        (chunk, None)
        for doc in docs
        for chunk in chunk_document(doc, config.max_words, config.overlap_words, config.pack_blocks)
    ]


class _ArticleOwners:
    """Which file holds each article id: the first one seen. A later file with the same id
    is skipped for that article, reported once per (file, id)."""

    def __init__(self, skipped: list[Skipped]) -> None:
        self._owner: dict[str, str] = {}  # article id -> file that holds it
        self._reported: set[tuple[str, str]] = set()  # (file, article id) already skipped
        self._skipped = skipped

    def keep(
        self, rel: str, passages: list[tuple[Chunk, int | None]]
    ) -> list[tuple[Chunk, int | None]]:
        """The passages of file `rel` whose article it owns."""
        kept = []
        for chunk, row in passages:
            holder = self._owner.setdefault(chunk.article_id, rel)
            if holder == rel:
                kept.append((chunk, row))
            elif (rel, chunk.article_id) not in self._reported:
                self._reported.add((rel, chunk.article_id))
                self._skipped.append(
                    Skipped(rel, f"duplicate article id {chunk.article_id!r}, already in {holder}")
                )
        return kept


def _nothing_readable(docs_dir: Path, skipped: list[Skipped]) -> KBInputError:
    detail = "; ".join(f"{s.path} ({s.reason})" for s in skipped[:_NAMES_SHOWN])
    return KBInputError(
        f"no readable documents in {docs_dir}: add Markdown, text, HTML or JSON/JSONL "
        "files" + (f" (skipped: {detail})" if detail else "")
    )


@contextmanager
def _new_build(out_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """This build's id and data file names in `out_dir` (created if need be).

    The files carry the build id, so the previous build stays whole until the manifest names
    the new files. If the block fails, this build's files go (and `out_dir` too, when this
    build created it and it is empty); if it succeeds, the previous build's files go.
    """
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    build_id = uuid.uuid4().hex[:12]
    artifacts = {
        "passages": f"passages.{build_id}.sqlite",
        "embeddings": f"embeddings.{build_id}.npy",
        "index": f"index.{build_id}.faiss",
        "keywords": f"keywords.{build_id}.npz",
    }
    try:
        yield build_id, artifacts
    except BaseException:
        for name in artifacts.values():
            (out_dir / name).unlink(missing_ok=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()  # leave no empty index folder behind
        raise
    for path in out_dir.iterdir():
        if _ARTIFACT.match(path.name) and path.name not in artifacts.values():
            path.unlink(missing_ok=True)


def _write_passages(
    out_dir: Path, artifacts: dict[str, str], chunks: list[Chunk], template: str
) -> list[str]:
    """Step 2: write the passage store and the keyword index (BM25 statistics depend on every
    passage, so it is always rebuilt) while the model loads. Returns each passage's text as
    `template` makes it for embedding."""
    write_store(out_dir / artifacts["passages"], chunks)
    KeywordIndex.build([chunk.keyword_text() for chunk in chunks]).save(
        out_dir / artifacts["keywords"]
    )
    return [chunk.embed_text(template) for chunk in chunks]


def _embeddings(
    files: list[_FilePassages],
    texts: list[str],
    before: _Before,
    embedder: Embedder | None,
    config: BuildConfig,
    report: BuildReport,
) -> tuple[np.ndarray, dict | None]:
    """Step 3: the (n, d) float32 matrix of every passage: rows of unchanged files copied
    from the previous build, the rest embedded now. Also returns the encoder's info (None
    when nothing was embedded)."""
    rows = [row for file in files for _, row in file.passages]  # row in the previous build
    to_embed = [i for i, row in enumerate(rows) if row is None]
    encoder_info = None
    if to_embed:
        assert embedder is not None, "a file to embed implies a file to parse"
        encoder_info = embedder.info()
        report.dimension = encoder_info["dimension"]
    else:  # every passage is reused, so there is a previous build
        report.dimension = int(before.previous.manifest["dimension"])  # type: ignore[union-attr]
    embeddings = np.zeros((len(rows), report.dimension), dtype=np.float32)
    if before.previous is not None:
        for i, row in enumerate(rows):
            if row is not None:
                embeddings[i] = before.previous.embeddings[row]
    if to_embed:
        embeddings[to_embed] = _embed(embedder, [texts[i] for i in to_embed], config, report)
    return embeddings, encoder_info


def _embed(
    embedder: Embedder, texts: list[str], config: BuildConfig, report: BuildReport
) -> np.ndarray:
    """Embed `texts` with one single-threaded process per core; timings go to the report."""
    report.workers = config.workers or available_cores()
    t0 = time.perf_counter()
    vectors = embedder.embed(
        texts, config.batch_size, report.workers, config.show_progress, report.max_seq_length
    )
    report.embed_seconds = time.perf_counter() - t0
    report.embedded = len(texts)
    return vectors


def _faiss_index(embeddings: np.ndarray, config: BuildConfig, report: BuildReport):
    """Step 4: exact search for small collections, HNSW above the threshold (with its
    recall@10 measured against exact search)."""
    report.index_type = choose_index_type(config.index_type, len(embeddings), config.hnsw_threshold)
    index = build_faiss_index(
        embeddings,
        report.index_type,
        config.hnsw_m,
        config.hnsw_ef_construction,
        config.hnsw_ef_search,
    )
    if report.index_type == "hnsw":
        report.recall_at_10 = recall_at_10(index, embeddings, config.recall_sample, config.seed)
    return index


def _write_vectors(out_dir: Path, artifacts: dict[str, str], embeddings: np.ndarray, index) -> None:
    """Step 5: write the embeddings (synced to disk) and the FAISS index."""
    with open(out_dir / artifacts["embeddings"], "wb") as handle:
        np.save(handle, embeddings, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    write_faiss_index(index, out_dir / artifacts["index"])


BUNDLED_MODEL = "<bundled all-MiniLM-L6-v2>"  # the manifest's model path for the bundled one


def _model_reference(model_path: Path, out_dir: Path) -> str:
    """How the manifest names the model: `BUNDLED_MODEL`, or its path relative to the index
    directory (POSIX), so that the index and its model can be copied or moved together."""
    if model_path == bundled_model_path().resolve():
        return BUNDLED_MODEL
    return Path(os.path.relpath(model_path, out_dir.resolve())).as_posix()


def _manifest(
    config: BuildConfig,
    model_path: Path,
    settings: dict,
    encoder_info: dict | None,
    previous: _Previous | None,
    report: BuildReport,
    per_file: list,
    artifacts: dict,
    build_id: str,
    tuning: dict | None = None,
) -> dict:
    if encoder_info is not None:
        max_seq_length = encoder_info["max_seq_length"]
    elif previous is not None:
        max_seq_length = previous.manifest["model"].get("max_seq_length")
    else:  # pragma: no cover - nothing embedded implies a previous build
        max_seq_length = None
    index: dict = {
        "type": report.index_type,
        "requested": config.index_type,
        "hnsw_threshold": config.hnsw_threshold,
        "recall_at_10": report.recall_at_10,
    }
    if report.index_type == "hnsw":
        index.update(
            hnsw_m=config.hnsw_m,
            ef_construction=config.hnsw_ef_construction,
            ef_search=config.hnsw_ef_search,
            recall_sample=min(config.recall_sample, report.count),
        )
    return {
        "build_id": build_id,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(report.seconds, 3),
        "model": {
            "path": str(model_path),  # made relative to the index by `_model_reference`
            "bundled": model_path == bundled_model_path().resolve(),
            "fingerprint": settings["model_fingerprint"],
            "dimension": report.dimension,
            "max_seq_length": max_seq_length,
        },
        "dimension": report.dimension,
        "count": report.count,
        "articles": report.articles,
        "index": index,
        "chunking": settings["chunking"],
        "keywords": {"scoring": "bm25", "k1": 1.2, "b": 0.75, "text": "title, section, text"},
        # how KnowledgeBase.load searches this index unless its SearchConfig says otherwise
        "search": {
            "keyword_weight": config.keyword_weight,
            "keyword_floor": config.keyword_floor,
        },
        # what `kb build --questions` measured to choose the settings (None: not tuned)
        "tuning": tuning,
        "embedding": {
            "template": settings["embed_template"],
            "template_name": config.embed_template,
            "precision": settings["precision"],
            # tokens of a passage the encoder read (model.max_seq_length: of a query)
            "max_seq_length": settings["max_seq_length"],
            "normalized": True,
            "batch_size": config.batch_size,
            "passages_embedded": report.embedded,
            "passages_per_second": report.passages_per_second,
            "workers": report.workers,
        },
        "files": {
            rel: {
                "sha256": sha,
                "passages": len(kept),
                "articles": sorted({c.article_id for c, _ in kept}),
            }
            for rel, sha, kept in per_file
        },
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "artifacts": artifacts,
        "config": config.to_dict(),
    }


__all__ = ["BuildReport", "build_index"]
