"""A loaded index: encode a question, find passages, cite their articles.

Scores: dense retrieval gives the cosine similarity of the question and a passage. With a
keyword weight > 0 (hybrid: `SearchConfig.keyword_weight`, else the weight the manifest
stores, else `DEFAULT_KEYWORD_WEIGHT`), the BM25 score of the passage for the question's
words, divided by the best BM25 score in the collection for that question (or by the
keyword floor times the question's ideal score, when that is higher), is added with that
weight. Candidates are the best `candidates` passages of each retriever.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kb.bm25 import KeywordIndex
from kb.config import DEFAULT_KEYWORD_FLOOR, DEFAULT_KEYWORD_WEIGHT, SearchConfig
from kb.encoder import TextEncoder, load_encoder
from kb.errors import KBIndexError, KBInputError
from kb.index import read_faiss_index, set_ef_search
from kb.manifest import MANIFEST_FILE, read_manifest, verify_files
from kb.passage import Passage
from kb.paths import bundled_model_path, model_fingerprint
from kb.store import PassageStore


class KnowledgeBase:
    """A searchable index directory, loaded once: FAISS index, passage store, BM25, model.

    Searching from several threads is safe; note that `config.query_threads` changes faiss's
    (and, with a torch query encoder, torch's) process-wide thread count for each query.
    """

    def __init__(
        self,
        index_dir: Path,
        manifest: dict,
        index,
        store: PassageStore,
        embeddings: np.ndarray,
        keywords: KeywordIndex,
        model: Path | TextEncoder,
        config: SearchConfig,
    ) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.config = config
        self._index = index
        self._store = store
        self._embeddings = embeddings  # (n, d) float32, memory-mapped
        self._keywords = keywords
        # The query encoder loads on the first text query: a caller that passes embeddings of
        # its own (the chat engine shares the ranker's) never pays for a second model.
        # an encoder (anything with `encode`), or the directory to load one from
        loaded = model if hasattr(model, "encode") else None
        self._model_path = Path(model.path) if loaded is not None else Path(model)
        self._loaded: TextEncoder | None = loaded
        self._load_lock = threading.Lock()
        self._article_ids: set[str] | None = None
        stored = manifest.get("search") if isinstance(manifest.get("search"), dict) else {}
        weight = config.keyword_weight
        if weight is None:
            weight = stored.get("keyword_weight", DEFAULT_KEYWORD_WEIGHT)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise KBIndexError(
                f"{index_dir / MANIFEST_FILE}: search.keyword_weight must be a number >= 0, "
                f"got {weight!r}: rebuild the index"
            )
        # the BM25 weight this index is searched with (see the module docstring)
        self.keyword_weight = float(weight)
        floor = config.keyword_floor
        if floor is None:
            # an index built before the floor existed was built (and maybe tuned) without one
            floor = stored.get("keyword_floor", DEFAULT_KEYWORD_FLOOR if not stored else 0.0)
        if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1:
            raise KBIndexError(
                f"{index_dir / MANIFEST_FILE}: search.keyword_floor must be a number from 0 "
                f"to 1, got {floor!r}: rebuild the index"
            )
        # fraction of a query's ideal BM25 score the normaliser never goes below
        self.keyword_floor = float(floor)

    @classmethod
    def load(
        cls,
        index_dir: str | os.PathLike,
        model_path: str | os.PathLike | None = None,
        config: SearchConfig | None = None,
    ) -> KnowledgeBase:
        """Open the index in `index_dir` with the model it was built with, or `model_path`.

        Raises KBIndexError (naming the file) when a file is missing or corrupted, when the
        model's fingerprint or dimension differs from the one in the manifest, or when the
        index's model directory no longer exists and no `model_path` is given.
        """
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir, "kb-index")
        manifest_path = index_dir / MANIFEST_FILE
        verify_files(index_dir, manifest, "kb-index")  # sizes and sha256 recorded at build
        model = _model_directory(manifest, manifest_path, model_path)
        built_with = manifest["model"]
        fingerprint = model_fingerprint(model)
        if fingerprint != built_with.get("fingerprint"):
            raise KBIndexError(
                f"{manifest_path}: the index was built with model {built_with.get('path')} "
                f"({built_with.get('fingerprint', '?')[:19]}...) but model {model} "
                f"({fingerprint[:19]}...) was given: load the index with the model it was "
                f"built with, or rebuild it: {_rebuild(index_dir)}"
            )
        artifacts = manifest["artifacts"]
        count, dimension = int(manifest["count"]), int(manifest["dimension"])
        index = read_faiss_index(index_dir / artifacts["index"])
        if index.ntotal != count or index.d != dimension:
            raise KBIndexError(
                f"FAISS index {index_dir / artifacts['index']} holds {index.ntotal} vectors of "
                f"dimension {index.d} but {manifest_path} says {count} of dimension "
                f"{dimension}: rebuild the index"
            )
        config = config or SearchConfig()
        ef_search = config.hnsw_ef_search or manifest["index"].get("ef_search")
        if ef_search:
            set_ef_search(index, int(ef_search))
        store = PassageStore(index_dir / artifacts["passages"])
        if len(store) != count:
            raise KBIndexError(
                f"passage store {store.path} holds {len(store)} passages but {manifest_path} "
                f"says {count}: rebuild the index"
            )
        embeddings_path = index_dir / artifacts["embeddings"]
        try:
            embeddings = np.load(embeddings_path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise KBIndexError(
                f"embeddings file {embeddings_path} is missing or corrupted ({exc}): "
                "rebuild the index"
            ) from exc
        if embeddings.shape != (count, dimension):
            raise KBIndexError(
                f"embeddings file {embeddings_path} has shape {embeddings.shape}, expected "
                f"({count}, {dimension}): rebuild the index"
            )
        if "keywords" not in artifacts:
            raise KBIndexError(f"{manifest_path} names no keyword index: rebuild the index")
        keywords = KeywordIndex.load(index_dir / artifacts["keywords"])
        if keywords.count != count:
            raise KBIndexError(
                f"keyword index {index_dir / artifacts['keywords']} covers {keywords.count} "
                f"passages but {manifest_path} says {count}: rebuild the index"
            )
        declared = _declared_dimension(model)
        if declared is not None:
            _check_dimension(manifest_path, dimension, model, declared)
        return cls(index_dir, manifest, index, store, embeddings, keywords, model, config)

    @property
    def model_path(self) -> Path:
        """Directory of the model that encodes queries (the one the index was built with)."""
        return self._model_path

    @property
    def _encoder(self) -> TextEncoder:
        with self._load_lock:
            if self._loaded is None:
                encoder = load_encoder(
                    self._model_path,
                    precision=self.config.query_precision,
                    threads=self.config.query_threads,
                )
                _check_dimension(
                    self.index_dir / MANIFEST_FILE,
                    self.dimension,
                    self._model_path,
                    encoder.dim,
                )
                self._loaded = encoder
            return self._loaded

    @property
    def path(self) -> Path:
        """The index directory."""
        return self.index_dir

    @property
    def built_at(self) -> str:
        """When the index was built (ISO 8601, UTC), from the manifest."""
        return str(self.manifest.get("built_at", ""))

    @property
    def dimension(self) -> int:
        """Embedding dimension of the index and model."""
        return int(self.manifest["dimension"])

    def __len__(self) -> int:
        return int(self.manifest["count"])

    def article_ids(self) -> set[str]:
        """Every article id in the index."""
        if self._article_ids is None:
            self._article_ids = self._store.article_ids()
        return self._article_ids

    def close(self) -> None:
        """Release the passage store connection."""
        self._store.close()

    def encode(self, texts: list[str] | str, batch_size: int = 32) -> np.ndarray:
        """Embeddings of `texts` with the index's model, shape (n, d), float32, unit length.

        A single text is encoded with `config.query_threads` threads, like a search query.
        """
        if isinstance(texts, str):
            texts = [texts]
        with _threads(self.config.query_threads if len(texts) == 1 else None):
            return self._encoder.encode(list(texts), batch_size=batch_size)

    def search(self, text: str, k: int = 5) -> list[Passage]:
        """The `k` passages that best answer `text`, best first (all of them if k > len)."""
        query = _check_query(text)
        _check_k(k)
        with _threads(self.config.query_threads):
            return self.search_embedding(self.encode([query])[0], k=k, text=query)

    def search_embedding(
        self, embedding: np.ndarray, k: int = 5, text: str | None = None
    ) -> list[Passage]:
        """Like `search` for a query already encoded with this index's model.

        `embedding` has shape (d,) or (1, d). `text`, when given, feeds the keyword part of
        hybrid scoring; without it the ranking is dense only.
        """
        _check_k(k)
        query = np.asarray(embedding, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dimension:
            raise KBInputError(
                f"query embedding has dimension {query.shape[1]}, the index expects "
                f"{self.dimension}: encode it with {self.model_path}"
            )
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm) or norm == 0.0:
            raise KBInputError("query embedding is zero or not finite")
        query = query / norm
        k = min(k, len(self))
        with _threads(self.config.query_threads):
            if self.keyword_weight > 0 and text and text.strip():
                ids, scores = self._hybrid(query, k, text)
            else:
                found_scores, found_ids = self._index.search(query, k)
                keep = found_ids[0] >= 0
                ids, scores = found_ids[0][keep].tolist(), found_scores[0][keep].tolist()
        rows = self._store.get(ids)
        passages = []
        for i, score in zip(ids, scores, strict=True):
            article_id, title, section, source, _, passage_text = rows[i]
            passages.append(Passage(article_id, title, section, source, float(score), passage_text))
        return passages

    def _hybrid(self, query: np.ndarray, k: int, text: str) -> tuple[list[int], list[float]]:
        """Fuse dense and BM25 candidates: cosine + keyword weight * bm25 / max bm25."""
        n_candidates = min(max(k, self.config.candidates), len(self))
        _, dense_ids = self._index.search(query, n_candidates)

        def cosine(ids: np.ndarray) -> np.ndarray:
            return np.asarray(self._embeddings[ids], dtype=np.float32) @ query[0]

        floor = self.keyword_floor * self._keywords.ideal_score(text) if self.keyword_floor else 0.0
        ids, scores = hybrid_ranking(
            dense_ids[0],
            cosine,
            self._keywords.scores(text),
            self.keyword_weight,
            n_candidates,
            k,
            floor=floor,
        )
        return ids.tolist(), scores.tolist()


def hybrid_ranking(
    dense_ids: np.ndarray,
    cosine: Callable[[np.ndarray], np.ndarray],
    bm25: np.ndarray,
    weight: float,
    n_candidates: int,
    k: int,
    floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best passage ids and their fused scores, best first.

    Candidates are `dense_ids` (the dense retriever's best, -1 = none) and the
    `n_candidates` passages of highest BM25 score above 0 (`bm25` holds every passage's);
    each scores cosine + weight * bm25 / scale, its cosine computed exactly by `cosine`
    (ids -> cosines). The scale is the best passage's BM25 score, or `floor` when that is
    higher (a query-dependent floor, see `KeywordIndex.ideal_score`: a passage that shares
    one common word with a short question then gets only part of the bonus). The
    benchmarks rank with this same function.

    >>> cos = np.array([0.9, 0.5, 0.4])
    >>> hybrid_ranking(np.array([0, 1]), lambda ids: cos[ids], np.array([0.0, 0.0, 2.0]),
    ...                0.6, 2, 2)[0].tolist()
    [2, 0]
    """
    top = float(bm25.max()) if len(bm25) else 0.0
    keyword_ids = np.zeros(0, dtype=np.int64)
    if top > 0:
        n = min(n_candidates, len(bm25))
        best = np.argpartition(-bm25, n - 1)[:n]
        keyword_ids = best[bm25[best] > 0]
    # sorted ids of both; not np.union1d, whose first call imports numpy.ma (~35 ms, in a
    # chat's first turn)
    found = set(dense_ids[dense_ids >= 0].tolist()) | set(keyword_ids.tolist())
    candidates = np.array(sorted(found), dtype=np.int64)
    fused = cosine(candidates).astype(np.float32)  # (c,)
    if top > 0:
        fused += weight * bm25[candidates] / max(top, floor)
    order = np.argsort(-fused, kind="stable")[:k]
    return candidates[order], fused[order]


@contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    """Run the block with `threads` torch and faiss (OpenMP) threads, then restore them.

    One query gains little from a second thread, and on a busy CPU the threads that wait
    for each other turn milliseconds into tens of milliseconds.
    """
    if threads is None:
        yield
        return
    import faiss

    # torch only where a torch query encoder loaded it (the onnx one has its own threads)
    torch = sys.modules.get("torch")
    before = (torch.get_num_threads() if torch else threads, faiss.omp_get_max_threads())
    if before == (threads, threads):
        yield
        return
    if torch:
        torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        if torch:
            torch.set_num_threads(before[0])
        faiss.omp_set_num_threads(before[1])


def _check_query(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise KBInputError(f"the query is empty ({text!r}): ask a question with some words")
    return text.strip()


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise KBInputError(f"k must be a positive integer, got {k!r}")


def _check_dimension(manifest_path: Path, dimension: int, model: Path, produced: int) -> None:
    if produced != dimension:
        raise KBIndexError(
            f"{manifest_path}: the index has dimension {dimension} but model {model} "
            f"produces {produced}: rebuild the index with this model"
        )


def _declared_dimension(model: Path) -> int | None:
    """The embedding size a model directory declares, read from its config files without
    loading weights: the last Dense module's `out_features`, else the transformer's
    `hidden_size`. None when the files do not say."""
    try:
        modules_file = model / "modules.json"
        modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
        dense = [m for m in modules if "Dense" in str(m.get("type", ""))]
        if dense:
            cfg = json.loads((model / dense[-1]["path"] / "config.json").read_text())
            return int(cfg["out_features"])
        return int(json.loads((model / "config.json").read_text())["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _model_directory(
    manifest: dict, manifest_path: Path, model_path: str | os.PathLike | None
) -> Path:
    """The model to load: `model_path`, else the manifest's (the local bundled MiniLM when the
    index was built with the bundled one, so an index moves between machines)."""
    if model_path is not None:
        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise KBIndexError(
                f"model {path}: no config.json there; give the sentence-transformers "
                f"directory the index in {manifest_path.parent} was built with"
            )
        return path.resolve()
    built_with = manifest["model"]
    if not isinstance(built_with, dict):
        raise KBIndexError(
            f"{manifest_path}: 'model' is not an object: {_rebuild(manifest_path.parent)}"
        )
    if built_with.get("bundled"):
        return bundled_model_path().resolve()
    recorded = str(built_with.get("path", ""))
    # Relative to the index directory (the index moved with its model), else where the
    # model was at build time (the index was copied alone); older manifests: absolute.
    path = manifest_path.parent / recorded
    if not (path / "config.json").is_file() and built_with.get("built_path"):
        path = Path(str(built_with["built_path"]))
    if not (path / "config.json").is_file():
        path = manifest_path.parent / recorded
        raise KBIndexError(
            f"{manifest_path}: the model the index was built with is not there ({recorded!r}"
            + (f", that is {path.resolve()}" if recorded != str(path) else "")
            + "). Copy or move the model together with the index, or rebuild the index: "
            f"{_rebuild(manifest_path.parent)} (`assistant kb search` also takes "
            "--model DIR for the same model in another place)."
        )
    return path.resolve()


def _rebuild(index_dir: Path) -> str:
    """The command that rebuilds the index in `index_dir`."""
    return f"`assistant kb build --docs DOCS --out {index_dir} --model MODEL`"


__all__ = ["KnowledgeBase", "Passage", "hybrid_ranking"]
