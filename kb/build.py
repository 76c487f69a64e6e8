"""Building (and incrementally rebuilding) an index directory from a docs folder.

Steps: scan the folder and hash every file; reuse the passages and embeddings of files whose
hash is unchanged since the previous build in `out_dir` (same model, chunking and precision);
parse, chunk and embed the rest; rebuild the FAISS index from the full embedding matrix;
rebuild the BM25 keyword index; write the new data files, then atomically replace
`manifest.json`.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from kb.bm25 import KeywordIndex
from kb.chunking import EMBED_TEMPLATE, Chunk, chunk_document
from kb.config import BuildConfig
from kb.documents import Skipped, parse_file, scan_folder
from kb.embedder import Embedder
from kb.encoder import (
    bundled_model_path,
    cpu_has_bf16,
    model_fingerprint,
    resolve_model_path,
)
from kb.errors import KBError, KBInputError
from kb.index import build_faiss_index, choose_index_type, recall_at_10, write_faiss_index
from kb.store import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    PassageStore,
    read_manifest,
    write_json_atomic,
    write_store,
)

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
        manifest = read_manifest(out_dir)
        old = {
            "model_fingerprint": manifest["model"].get("fingerprint"),
            "chunking": manifest.get("chunking"),
            "embed_template": manifest.get("embedding", {}).get("template"),
            "precision": manifest.get("embedding", {}).get("precision"),
        }
        for key, label in (
            ("model_fingerprint", "the model changed"),
            ("chunking", "the chunking settings changed"),
            ("embed_template", "the embedding template changed"),
            ("precision", "the encoding precision changed"),
        ):
            if old[key] != settings[key]:
                return None, f"{label} ({old[key]} -> {settings[key]})"
        artifacts = manifest["artifacts"]
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
        files = read_manifest(out_dir)["files"]
    except KBError:
        return {}
    return files if isinstance(files, dict) else {}


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in ("faiss-cpu", "numpy", "sentence-transformers", "torch", "transformers"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


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
    docs_dir: str | os.PathLike, out_dir: str | os.PathLike, config: BuildConfig | None = None
) -> BuildReport:
    """Build or update the index in `out_dir` from the documents under `docs_dir`.

    Only files that are new or changed since the previous build in `out_dir` are embedded;
    files gone from `docs_dir` disappear from the index. Raises KBInputError when the docs
    folder is missing or holds no readable document.
    """
    start = time.perf_counter()
    config = config or BuildConfig()
    docs_dir, out_dir = Path(docs_dir), Path(out_dir)
    if not docs_dir.is_dir():
        raise KBInputError(f"docs folder {docs_dir} does not exist or is not a folder")
    model_path = resolve_model_path(config.model_path)
    precision = config.precision
    if precision == "auto":
        precision = "bf16" if cpu_has_bf16() else "fp32"
    settings = {
        "model_fingerprint": model_fingerprint(model_path),
        "chunking": config.chunking(),
        "embed_template": EMBED_TEMPLATE,
        "precision": precision,
    }
    sources, skipped = scan_folder(docs_dir, exclude=out_dir)
    previous, full_reason = _load_previous(out_dir, settings)
    old_files = _previous_files(out_dir)  # for the report, even when nothing can be reused

    def same_content(src) -> bool:
        old = old_files.get(src.rel)
        return isinstance(old, dict) and old.get("sha256") == src.sha256

    def reusable(src) -> bool:
        return bool(previous and same_content(src) and src.rel in previous.chunks)

    # The encoder loads in its own process while this one parses, chunks and writes the
    # passage store and keyword index (see kb.embedder); the process ends with the build.
    embedder = Embedder(model_path, precision) if not all(map(reusable, sources)) else None
    with embedder or nullcontext():
        # 1. Decide per file: reuse its passages and embedding rows, or parse and chunk it again.
        report = BuildReport(out_dir, 0, 0, 0, "flat", None, full_rebuild_reason=full_reason)
        per_file: list[tuple[str, str, list[tuple[Chunk, int | None]]]] = []  # (rel, sha, chunks)
        owner: dict[str, str] = {}  # article id -> file that holds it
        duplicates: set[tuple[str, str]] = set()  # (file, article id) already reported
        for src in sources:
            same = same_content(src)
            if reusable(src):
                chunks: list[tuple[Chunk, int | None]] = list(previous.chunks[src.rel])
            else:
                docs, bad = parse_file(src)
                skipped.extend(bad)
                chunks = [
                    (c, None)
                    for doc in docs
                    for c in chunk_document(doc, config.max_words, config.overlap_words)
                ]
            known = bool(old_files.get(src.rel))
            status = report.unchanged if same else report.changed if known else report.added
            kept = []
            for chunk, row in chunks:
                holder = owner.setdefault(chunk.article_id, src.rel)
                if holder == src.rel:
                    kept.append((chunk, row))
                elif (src.rel, chunk.article_id) not in duplicates:
                    duplicates.add((src.rel, chunk.article_id))
                    skipped.append(
                        Skipped(
                            src.rel,
                            f"duplicate article id {chunk.article_id!r}, already in {holder}",
                        )
                    )
            if kept:
                status.append(src.rel)
                per_file.append((src.rel, src.sha256, kept))
        report.skipped = sorted(skipped, key=lambda s: s.path)
        report.removed = sorted(set(old_files) - {rel for rel, _, _ in per_file})

        all_chunks = [chunk for _, _, kept in per_file for chunk, _ in kept]
        if not all_chunks:
            detail = "; ".join(f"{s.path} ({s.reason})" for s in skipped[:_NAMES_SHOWN])
            raise KBInputError(
                f"no readable documents in {docs_dir}: add Markdown, text, HTML or JSON/JSONL "
                "files" + (f" (skipped: {detail})" if detail else "")
            )

        # 2. Write the passage store and the keyword index (BM25 statistics depend on every
        #    passage, so it is always rebuilt) while the model loads.
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
            write_store(out_dir / artifacts["passages"], all_chunks)
            texts = [c.embed_text() for c in all_chunks]  # what is keyword-indexed and embedded
            KeywordIndex.build(texts).save(out_dir / artifacts["keywords"])

            # 3. Embed the new passages; copy the reused rows.
            rows = [item for _, _, kept in per_file for item in kept]  # (passage, previous row)
            to_embed = [(i, chunk) for i, (chunk, row) in enumerate(rows) if row is None]
            encoder_info: dict | None = None
            vectors = None
            if to_embed:
                assert embedder is not None, "a file to embed implies a file to parse"
                encoder_info = embedder.info()
                report.workers = config.workers or available_cores()
                t0 = time.perf_counter()
                vectors = embedder.embed(
                    [texts[i] for i, _ in to_embed],
                    config.batch_size,
                    report.workers,
                    config.show_progress,
                )
                report.embed_seconds = time.perf_counter() - t0
                report.embedded = len(to_embed)
                dimension = encoder_info["dimension"]
            else:  # every passage is reused, so there is a previous build
                dimension = int(previous.manifest["dimension"])  # type: ignore[union-attr]
            embeddings = np.zeros((len(all_chunks), dimension), dtype=np.float32)
            if previous is not None:
                for i, (_, row) in enumerate(rows):
                    if row is not None:
                        embeddings[i] = previous.embeddings[row]
            if vectors is not None:
                embeddings[[i for i, _ in to_embed]] = vectors

            # 4. Index: exact for small collections, HNSW above the threshold (measured recall).
            index_type = choose_index_type(
                config.index_type, len(all_chunks), config.hnsw_threshold
            )
            index = build_faiss_index(
                embeddings,
                index_type,
                config.hnsw_m,
                config.hnsw_ef_construction,
                config.hnsw_ef_search,
            )
            if index_type == "hnsw":
                report.recall_at_10 = recall_at_10(
                    index, embeddings, config.recall_sample, config.seed
                )

            # 5. Write the embeddings and the index, then the manifest (the commit point), then
            #    drop the previous build's files.
            with open(out_dir / artifacts["embeddings"], "wb") as handle:
                np.save(handle, embeddings, allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())
            write_faiss_index(index, out_dir / artifacts["index"])
            report.count = len(all_chunks)
            report.articles = len({c.article_id for c in all_chunks})
            report.dimension = dimension
            report.index_type = index_type
            report.seconds = time.perf_counter() - start
            manifest = _manifest(
                config,
                model_path,
                settings,
                encoder_info,
                previous,
                report,
                per_file,
                artifacts,
                build_id,
            )
            write_json_atomic(out_dir / MANIFEST_FILE, manifest)
        except BaseException:
            for name in artifacts.values():
                (out_dir / name).unlink(missing_ok=True)
            if created and not any(out_dir.iterdir()):
                out_dir.rmdir()  # leave no empty index folder behind
            raise
        for path in out_dir.iterdir():
            if _ARTIFACT.match(path.name) and path.name not in artifacts.values():
                path.unlink(missing_ok=True)
        return report


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
        "format_version": FORMAT_VERSION,
        "kind": "kb-index",
        "build_id": build_id,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(report.seconds, 3),
        "model": {
            "path": str(model_path),
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
        "embedding": {
            "template": settings["embed_template"],
            "precision": settings["precision"],
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
        "library_versions": _library_versions(),
    }


__all__ = ["BuildReport", "build_index"]
